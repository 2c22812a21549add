package webhook

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

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
		{"localhost fully qualified", with(func(p *EndpointParams) { p.URL = "https://localhost./h" }), "URL"},
		{"localhost upper case, dot", with(func(p *EndpointParams) { p.URL = "https://LocalHost./h" }), "URL"},
		{"localhost two dots", with(func(p *EndpointParams) { p.URL = "https://localhost../h" }), "URL"},
		{"under localhost, dot", with(func(p *EndpointParams) { p.URL = "https://api.LOCALHOST.:8443/h" }), "URL"},
		{"URL NUL", with(func(p *EndpointParams) { p.URL = "https://example.com/a\x00b" }), "URL"},
		{"URL invalid UTF-8", with(func(p *EndpointParams) { p.URL = "https://example.com/a\xffb" }), "URL"},
		{"URL invalid UTF-8 in host", with(func(p *EndpointParams) { p.URL = "https://ex\xc0\x80ample.com/" }), "URL"},
		{"metadata address", with(func(p *EndpointParams) { p.URL = "http://169.254.169.254/latest" }), "URL"},
		{"private v6", with(func(p *EndpointParams) { p.URL = "http://[fd00::1]/" }), "URL"},
		{"method", with(func(p *EndpointParams) { p.Method = "DELETE" }), "Method"},
		{"content type", with(func(p *EndpointParams) { p.ContentType = "text/xml" }), "ContentType"},
		{"content type with parameters", with(func(p *EndpointParams) { p.ContentType = "text/plain; charset=utf-8" }), "ContentType"},
		{"content type other charset", with(func(p *EndpointParams) { p.ContentType = "application/json; charset=iso-8859-1" }), "ContentType"},
		{"content type malformed parameter", with(func(p *EndpointParams) { p.ContentType = "application/json; charset" }), "ContentType"},
		{"content type duplicate parameter", with(func(p *EndpointParams) { p.ContentType = "application/json; a=1; a=2" }), "ContentType"},
		{"content type injection", with(func(p *EndpointParams) { p.ContentType = "application/json\r\nX-Evil: 1" }), "ContentType"},
		{"content type too long", with(func(p *EndpointParams) {
			p.ContentType = "application/json; v=" + strings.Repeat("a", MaxContentTypeLen)
		}), "ContentType"},
		{"method GET", with(func(p *EndpointParams) { p.Method = "GET" }), "Method"},
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
		{"name NUL", with(func(p *EndpointParams) { p.Name = "a\x00b" }), "Name"},
		{"name invalid UTF-8", with(func(p *EndpointParams) { p.Name = "a\xffb" }), "Name"},
		{"name newline", with(func(p *EndpointParams) { p.Name = "a\nb" }), "Name"},
		{"long tenant", with(func(p *EndpointParams) { p.TenantID = strings.Repeat("t", MaxTenantIDLen+1) }), "TenantID"},
		{"tenant NUL", with(func(p *EndpointParams) { p.TenantID = "a\x00b" }), "TenantID"},
		{"tenant invalid UTF-8", with(func(p *EndpointParams) { p.TenantID = "a\xffb" }), "TenantID"},
		{"tenant C1 control", with(func(p *EndpointParams) { p.TenantID = "a\u0085b" }), "TenantID"},
		{"header value invalid UTF-8", with(func(p *EndpointParams) { p.Headers = http.Header{"X-Token": {"caf\xe9"}} }), "Headers"},
		{"event pattern NUL", with(func(p *EndpointParams) { p.Events = []string{"post.\x00"} }), "Events"},
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
	for _, u := range []string{"http://127.0.0.1:9/", "http://localhost./", "http://app.localhost/"} {
		_, err := endpointRules{allowPrivate: true}.normalize(EndpointParams{URL: u})
		assert.NoError(t, err, u)
	}
}

func TestNormalizeAcceptsNamesNearLocalhost(t *testing.T) {
	for _, u := range []string{"https://localhost.example.com/", "https://mylocalhost/", "https://localhostx./", "https://example.com./h"} {
		_, err := endpointRules{}.normalize(EndpointParams{URL: u})
		assert.NoError(t, err, u)
	}
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
	f.Add("https://localhost./h")
	f.Add("https://a.LocalHost../h")
	f.Add("https://example.com/\x00\xff")
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
		if !utf8.ValidString(raw) || strings.ContainsRune(raw, 0) {
			t.Fatalf("%q accepted: not UTF-8 without NUL, which every Store holds", raw)
		}
		u, _ := url.Parse(raw)
		labels := strings.FieldsFunc(strings.ToLower(u.Hostname()), func(r rune) bool { return r == '.' })
		if len(labels) > 0 && labels[len(labels)-1] == "localhost" {
			t.Fatalf("%q accepted: its host is under localhost", raw)
		}
		if shown, err := url.Parse(ep.RedactedURL()); err != nil || (u.RawQuery != "" && shown.RawQuery != "REDACTED") {
			t.Fatalf("RedactedURL of %q = %q", raw, ep.RedactedURL())
		}
		red, origin := redactURL(raw), u.Scheme+"://"+u.Host
		if red != origin && red != origin+"/…" {
			t.Fatalf("redactURL(%q) = %q shows more than %q", raw, red, origin)
		}
	})
}

func TestNormalizeHTTPSOnly(t *testing.T) {
	r := endpointRules{httpsOnly: true}
	_, err := r.normalize(EndpointParams{URL: "https://example.com/hook"})
	require.NoError(t, err)
	for _, u := range []string{"http://example.com/hook", "HTTP://example.com/hook"} {
		_, err = r.normalize(EndpointParams{URL: u})
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, u)
		assert.Equal(t, "URL", ve.Field)
	}
	_, err = endpointRules{}.normalize(EndpointParams{URL: "http://example.com/hook"})
	assert.NoError(t, err, "http allowed without the option")
}

func TestIsForm(t *testing.T) {
	for ct, want := range map[string]bool{
		ContentTypeForm: true, ContentTypeForm + "; charset=utf-8": true, "Application/X-WWW-Form-Urlencoded": true,
		ContentTypeJSON: false, ContentTypeJSON + "; charset=utf-8": false, "": false, "application/x-www-form-urlencodedx": false,
	} {
		assert.Equal(t, want, isForm(ct), ct)
	}
}
