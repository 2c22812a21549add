package webhook

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
)

// TestNewRequestAsNewRequestWithContext: newRequest makes the request
// http.NewRequestWithContext makes from a bytes.Reader, and fails as it
// does.
func TestNewRequestAsNewRequestWithContext(t *testing.T) {
	ctx := context.WithValue(context.Background(), struct{}{}, 1)
	for _, c := range []struct{ method, url, body string }{
		{"POST", "https://example.com:/hook?a=1", `{"a":1}`},
		{"PUT", "http://user:pass@example.com/x", ""},
		{"PATCH", "http://[::1]:8080/", "payload=%7B%7D"},
		{"POST", "http://exa mple.com/", "x"},
		{"POST", "://nope", "x"},
		{"BAD METHOD", "http://example.com/", "x"},
	} {
		want, wantErr := http.NewRequestWithContext(ctx, c.method, c.url, bytes.NewReader([]byte(c.body)))
		got, _, gotErr := newRequest(ctx, c.method, c.url, []byte(c.body))
		if (wantErr == nil) != (gotErr == nil) || wantErr != nil && wantErr.Error() != gotErr.Error() {
			t.Fatalf("%s %s: error %v, want %v", c.method, c.url, gotErr, wantErr)
		}
		if wantErr != nil {
			continue
		}
		if got.Method != want.Method || got.URL.String() != want.URL.String() || got.Host != want.Host ||
			got.Proto != want.Proto || got.ContentLength != want.ContentLength || got.Context() != want.Context() ||
			(got.Body == http.NoBody) != (want.Body == http.NoBody) || len(got.Header) != len(want.Header) {
			t.Fatalf("%s %s: got %+v, want %+v", c.method, c.url, got, want)
		}
		for i := 0; i < 2; i++ { // the body, then what GetBody gives, twice
			b, err := io.ReadAll(got.Body)
			if err != nil || string(b) != c.body || got.Body.Close() != nil {
				t.Fatalf("%s %s: body %q, %v", c.method, c.url, b, err)
			}
			if got.Body, err = got.GetBody(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestRequestBodyIsWrittenWithItsHeaders: the body newRequest gives the
// request is one net/http writes with the headers, in one write.
func TestRequestBodyIsWrittenWithItsHeaders(t *testing.T) {
	req, _, err := newRequest(context.Background(), "POST", "http://example.com/", []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	w := &countingWriter{}
	if err := req.Write(w); err != nil {
		t.Fatal(err)
	}
	if w.writes != 1 {
		t.Fatalf("%d writes, want 1", w.writes)
	}
}

type countingWriter struct{ writes int }

func (w *countingWriter) Write(p []byte) (int, error) { w.writes++; return len(p), nil }
