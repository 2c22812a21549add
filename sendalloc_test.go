package webhook

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestReadResponseAsReadAll checks readResponse against what send did
// before: io.ReadAll of at most ResponseReadLimitDefault bytes, then
// excerpt of that; and that it reads no more than the limit.
func TestReadResponseAsReadAll(t *testing.T) {
	sizes := []int{0, 1, 5, 1023, 1024, 1025, 4000, ResponseReadLimitDefault - 1, ResponseReadLimitDefault,
		ResponseReadLimitDefault + 1, 3 * ResponseReadLimitDefault}
	for _, keep := range []int{1, 7, ResponseExcerptDefault, 5000, ResponseReadLimitDefault} {
		for _, n := range sizes {
			body := bytes.Repeat([]byte("ab\x00é\xff"), n/6+1)[:n]
			buf, _ := io.ReadAll(io.LimitReader(bytes.NewReader(body), ResponseReadLimitDefault))
			want := excerpt(buf, keep)
			r := bytes.NewReader(body)
			if got := readResponse(r, keep); got != want {
				t.Fatalf("keep %d, body %d: excerpt %q, want %q", keep, n, got, want)
			}
			if read := n - r.Len(); read != min(n, ResponseReadLimitDefault) {
				t.Fatalf("keep %d, body %d: read %d bytes", keep, n, read)
			}
		}
	}
}

func TestSetRequestHeadersAsSet(t *testing.T) {
	got := http.Header{"X-A": {"1"}, "Content-Type": {"x"}}
	want := got.Clone()
	setRequestHeaders(got, new([3]string), "application/json", "ua", "ev")
	want.Set("Content-Type", "application/json")
	want.Set("User-Agent", "ua")
	want.Set(HeaderWebhookID, "ev")
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if strings.Join(got[k], "\n") != strings.Join(v, "\n") {
			t.Fatalf("%s: got %q, want %q", k, got[k], v)
		}
	}
	got.Add("Content-Type", "y")
	if got.Get("User-Agent") != "ua" {
		t.Fatal("an Add wrote into the next header")
	}
}
