package webhook

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestNormalizeDefaults(t *testing.T) {
	ep, err := endpointRules{}.normalize(EndpointParams{URL: "https://example.com/hook"})
	require.NoError(t, err)
	assert.Equal(t, http.MethodPost, ep.Method)
	assert.Equal(t, ContentTypeJSON, ep.ContentType)
	assert.Equal(t, 0, ep.MaxAttempts)

	ep, err = endpointRules{}.normalize(EndpointParams{URL: "https://example.com", Method: "put", Headers: http.Header{"x-api-key": {"k"}}})
	require.NoError(t, err)
	assert.Equal(t, http.MethodPut, ep.Method)
	assert.Equal(t, "k", ep.Headers.Get("X-Api-Key"))
}

func TestNormalizeRejects(t *testing.T) {
	ok := EndpointParams{URL: "https://example.com/hook"}
	with := func(f func(p *EndpointParams)) EndpointParams {
		p := ok
		f(&p)
		return p
	}
	tests := []struct {
		name  string
		p     EndpointParams
		field string
	}{
		{"no URL", with(func(p *EndpointParams) { p.URL = "" }), "URL"},
		{"ftp scheme", with(func(p *EndpointParams) { p.URL = "ftp://example.com" }), "URL"},
		{"no host", with(func(p *EndpointParams) { p.URL = "https:///path" }), "URL"},
		{"user info", with(func(p *EndpointParams) { p.URL = "https://u:p@example.com" }), "URL"},
		{"too long", with(func(p *EndpointParams) { p.URL = "https://example.com/" + strings.Repeat("a", MaxURLLen) }), "URL"},
		{"port out of range", with(func(p *EndpointParams) { p.URL = "https://example.com:99999/" }), "URL"},
		{"port zero", with(func(p *EndpointParams) { p.URL = "https://example.com:0/" }), "URL"},
		{"loopback literal", with(func(p *EndpointParams) { p.URL = "http://127.0.0.1:8080/" }), "URL"},
		{"localhost", with(func(p *EndpointParams) { p.URL = "http://localhost/" }), "URL"},
		{"metadata address", with(func(p *EndpointParams) { p.URL = "http://169.254.169.254/latest" }), "URL"},
		{"private v6", with(func(p *EndpointParams) { p.URL = "http://[fd00::1]/" }), "URL"},
		{"method", with(func(p *EndpointParams) { p.Method = "DELETE" }), "Method"},
		{"content type", with(func(p *EndpointParams) { p.ContentType = "text/xml" }), "ContentType"},
		{"max attempts negative", with(func(p *EndpointParams) { p.MaxAttempts = -1 }), "MaxAttempts"},
		{"max attempts too many", with(func(p *EndpointParams) { p.MaxAttempts = MaxAttemptsLimit + 1 }), "MaxAttempts"},
		{"bad event", with(func(p *EndpointParams) { p.Events = []string{"Post Created"} }), "Events"},
		{"reserved header", with(func(p *EndpointParams) { p.Headers = http.Header{"Content-Type": {"x"}} }), "Headers"},
		{"webhook header", with(func(p *EndpointParams) { p.Headers = http.Header{"Webhook-Signature": {"x"}} }), "Headers"},
		{"header injection", with(func(p *EndpointParams) { p.Headers = http.Header{"X-A": {"a\r\nX-B: b"}} }), "Headers"},
		{"control character", with(func(p *EndpointParams) { p.Headers = http.Header{"X-Token": {"abc\x01def"}} }), "Headers"},
		{"any webhook- header", with(func(p *EndpointParams) { p.Headers = http.Header{"Webhook-Version": {"2"}} }), "Headers"},
		{"bad header name", with(func(p *EndpointParams) { p.Headers = http.Header{"X A": {"a"}} }), "Headers"},
		{"long name", with(func(p *EndpointParams) { p.Name = strings.Repeat("n", MaxNameLen+1) }), "Name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := endpointRules{}.normalize(tt.p)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalid)
			var ve *ValidationError
			require.True(t, errors.As(err, &ve))
			assert.Equal(t, tt.field, ve.Field)
		})
	}
}

func TestNormalizeAllowPrivate(t *testing.T) {
	_, err := endpointRules{allowPrivate: true}.normalize(EndpointParams{URL: "http://127.0.0.1:9/"})
	assert.NoError(t, err)
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://user:pw@example.com/hook?key=s3cret&b=2#frag", "https://example.com/…"},
		{"https://example.com/hook?sk_live_TOPSECRET", "https://example.com/…"},
		{"https://hooks.slack.com/services/T0/B0/XXXXSECRET", "https://hooks.slack.com/…"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, redactURL(tt.in), tt.in)
	}
}

func TestEndpointRedactedURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.com/hook?key=s3cret", "https://example.com/hook?REDACTED"},
		{"https://example.com/hook?sk_live_TOPSECRET", "https://example.com/hook?REDACTED"},
		{"https://u:pw@example.com/a/b", "https://example.com/a/b"},
		{"https://example.com", "https://example.com"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, (&Endpoint{URL: tt.in}).RedactedURL(), tt.in)
	}
}

func FuzzNormalizeURL(f *testing.F) {
	f.Add("https://example.com/hook?key=abc")
	f.Add("http://[::1]:80/")
	f.Add("http://0x7f.1/")
	f.Fuzz(func(t *testing.T, raw string) {
		ep, err := endpointRules{}.normalize(EndpointParams{URL: raw})
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if ep.URL != raw {
			t.Fatalf("URL changed: %q -> %q", raw, ep.URL)
		}
		u, _ := url.Parse(raw)
		if shown, err := url.Parse(ep.RedactedURL()); err != nil || (u.RawQuery != "" && shown.RawQuery != "REDACTED") {
			t.Fatalf("RedactedURL of %q = %q", raw, ep.RedactedURL())
		}
		red, origin := redactURL(raw), u.Scheme+"://"+u.Host
		if red != origin && red != origin+"/…" {
			t.Fatalf("redactURL(%q) = %q shows more than %q", raw, red, origin)
		}
	})
}
