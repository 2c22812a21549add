package verify_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/verify"
)

type seen struct {
	payload *verify.Payload
	body    []byte
}

// setup returns a Handler with a recording Next, and what Next saw.
func setup(t *testing.T, v verify.Verifier, logs io.Writer) (*verify.Handler, *seen) {
	t.Helper()
	s := &seen{}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := verify.FromContext(r.Context())
		if !ok {
			t.Error("no payload in context")
		}
		s.payload = p
		s.body, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusNoContent)
	})
	h := &verify.Handler{Verifier: v, Next: next, MaxBodyBytes: 1024}
	if logs != nil {
		h.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	return h, s
}

func request(t *testing.T, h http.Header, body string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body))
	for k, v := range h {
		r.Header[k] = v
	}
	return r
}

func TestHandler(t *testing.T) {
	body := `{"id":"evt_1","type":"post.created","timestamp":"2021-02-25T15:02:10Z","tenant_id":"t1","data":{"title":"<b>&</b>"}}`
	signed := sign(t, webhook.StandardSigner{}, body, secretA)
	signed.Set("Content-Type", "application/json")
	v := verify.Standard{Secrets: []string{secretA}, Now: clock(t0)}

	t.Run("valid", func(t *testing.T) {
		h, s := setup(t, v, nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, request(t, signed, body))
		if w.Code != http.StatusNoContent {
			t.Fatalf("status %d", w.Code)
		}
		if string(s.body) != body || string(s.payload.Body) != body {
			t.Fatalf("body not passed on: %q / %q", s.body, s.payload.Body)
		}
		env := s.payload.Envelope
		if env.ID != "evt_1" || env.Type != "post.created" || env.TenantID != "t1" ||
			!env.Timestamp.Equal(t0) || string(env.Data) != `{"title":"<b>&</b>"}` {
			t.Fatalf("envelope %+v", env)
		}
	})

	refusals := []struct {
		name   string
		header http.Header
		body   string
		want   int
	}{
		{name: "tampered", header: signed, body: strings.Replace(body, "t1", "t2", 1), want: 401},
		{name: "unsigned", header: http.Header{}, body: body, want: 401},
		{name: "too large", header: signed, body: body + strings.Repeat(" ", 1024), want: 400},
		{name: "signed but not JSON", header: sign(t, webhook.StandardSigner{}, "hello", secretA), body: "hello", want: 400},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h, s := setup(t, v, &logs)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, request(t, tt.header, tt.body))
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d", w.Code, tt.want)
			}
			if s.payload != nil {
				t.Fatal("Next was called")
			}
			// The answer is the bare status text; the reason is only logged.
			if got := strings.TrimSpace(w.Body.String()); got != http.StatusText(tt.want) {
				t.Fatalf("answer %q leaks detail", got)
			}
			if !strings.Contains(logs.String(), "webhook refused") {
				t.Fatalf("refusal not logged: %q", logs.String())
			}
			if strings.Contains(logs.String(), secretA) {
				t.Fatal("secret in the log")
			}
		})
	}

	t.Run("misconfigured", func(t *testing.T) {
		h, _ := setup(t, verify.Standard{Now: clock(t0)}, nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, request(t, signed, body))
		if w.Code != http.StatusInternalServerError {
			t.Fatalf("status %d", w.Code)
		}
	})
}

func TestHandlerForm(t *testing.T) {
	env := `{"id":"evt_9","type":"item.create","timestamp":1614265330,"data":{}}`
	body := "payload=" + url.QueryEscape(env)
	h := sign(t, webhook.HMACSigner{Header: "X-Hub-Signature-256", Prefix: "sha256="}, body, "s")
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	mw := verify.Middleware(verify.HMAC{Header: "X-Hub-Signature-256", Prefix: "sha256=", Secrets: []string{"s"}})
	var got verify.Envelope
	srv := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := verify.FromContext(r.Context())
		got = p.Envelope
	}))
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, request(t, h, body))
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	if got.ID != "evt_9" || got.Type != "item.create" || !got.Timestamp.Equal(time.Unix(1614265330, 0)) || string(got.JSON) != env {
		t.Fatalf("envelope %+v", got)
	}
}

func TestParseEnvelope(t *testing.T) {
	tests := []struct {
		name, body, ct string
		want           verify.Envelope
		bad            bool
	}{
		{name: "ProductLift shape", body: `{"id":7,"creation_time":"x","event":"post.created","data":null}`,
			want: verify.Envelope{ID: "7", Type: "post.created"}},
		{name: "id from header", body: `{"type":"a.b"}`, want: verify.Envelope{ID: "hdr", Type: "a.b"}},
		{name: "array", body: `[1]`, bad: true},
		{name: "null", body: `null`, bad: true},
		{name: "trailing", body: `{} {}`, bad: true},
		{name: "empty", body: ``, bad: true},
		{name: "form without payload", body: `a=b`, ct: "application/x-www-form-urlencoded", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := verify.ParseEnvelope(tt.ct, []byte(tt.body), "hdr")
			if tt.bad {
				if err == nil {
					t.Fatalf("accepted %+v", got)
				}
				return
			}
			if err != nil || got.ID != tt.want.ID || got.Type != tt.want.Type {
				t.Fatalf("got %+v, %v", got, err)
			}
		})
	}
}

// TestHandlerUnknownLength: a body of unannounced length (chunked) is cut
// at the limit too.
func TestHandlerUnknownLength(t *testing.T) {
	body := `{"id":"x"}` + strings.Repeat(" ", 2048)
	h, s := setup(t, verify.Standard{Secrets: []string{secretA}, Now: clock(t0)}, nil)
	r := request(t, sign(t, webhook.StandardSigner{}, body, secretA), body)
	r.ContentLength = -1
	r.Body = io.NopCloser(strings.NewReader(body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusBadRequest || s.payload != nil {
		t.Fatalf("status %d, next called: %v", w.Code, s.payload != nil)
	}
}
