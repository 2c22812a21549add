package webhook

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPublicAddr(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"93.184.216.34", true},
		{"2606:2800:220:1:248:1893:25c8:1946", true},
		{"127.0.0.1", false},
		{"::1", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"fe80::1", false},
		{"fc00::1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"100.64.0.1", false},
		{"224.0.0.1", false},
		{"255.255.255.255", false},
		{"::ffff:127.0.0.1", false}, // IPv4-mapped loopback
		{"::ffff:10.0.0.1", false},
		{"64:ff9b::a00:1", false}, // NAT64 of 10.0.0.1
		{"198.18.0.1", false},
		{"fec0::1", false},
		{"::7f00:1", false},        // IPv4-compatible 127.0.0.1
		{"::ffff:0:7f00:1", false}, // IPv4-translated 127.0.0.1
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			assert.Equal(t, tt.want, PublicAddr(netip.MustParseAddr(tt.addr)))
		})
	}
}

func TestDefaultClientRefusesLoopbackAfterDNS(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the guard let a request through")
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]

	client := NewClient(false, 4)
	for _, u := range []string{srv.URL, "http://localhost:" + port} {
		_, err := client.Get(u)
		require.Error(t, err, u)
		assert.ErrorIs(t, err, ErrForbiddenAddress, u)
	}
}

func TestDefaultClientDoesNotFollowRedirects(t *testing.T) {
	var followed bool
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed = true }))
	defer target.Close()
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	defer redirect.Close()

	res, err := NewClient(true, 4).Get(redirect.URL)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusFound, res.StatusCode)
	assert.False(t, followed)
}

func TestParseRetryAfter(t *testing.T) {
	now := mustTime("2026-11-22T12:00:00Z")
	tests := []struct {
		in   string
		want string
	}{
		{"", "0s"},
		{"120", "2m0s"},
		{" 5 ", "5s"},
		{"-3", "0s"},
		{"soon", "0s"},
		{"0", "0s"},
		{"12abc", "0s"},
		{"1e3", "0s"},
		{"Sun, 22 Nov 2026 12:01:30 GMT", "1m30s"},
		{"Sun, 22 Nov 2026 11:00:00 GMT", "0s"},
		// Beyond a year, and beyond int64: a long delay all the same,
		// saturated at a year (retryDelay caps it at MaxRetryAfter).
		{"31536001", "8760h0m0s"},
		{"9223372036854775807", "8760h0m0s"},
		{"100000000000000000000", "8760h0m0s"}, // 10^20
		{"99999999999999999999999999999999999999", "8760h0m0s"},
		{"-100000000000000000000", "0s"},
		{"Fri, 31 Dec 9999 23:59:59 GMT", "8760h0m0s"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			assert.Equal(t, tt.want, parseRetryAfter(tt.in, now).String())
		})
	}
}

// Retry-After comes from the customer's server: whatever it says, the
// delay is never negative and never beyond a year, and a positive number of
// seconds, however large, is a positive delay that grows with the number.
func FuzzParseRetryAfter(f *testing.F) {
	f.Add("120")
	f.Add("Sun, 22 Nov 2026 12:01:30 GMT")
	f.Add("Fri, 31 Dec 9999 23:59:59 GMT")
	f.Add("99999999999999999999")
	f.Add("-1")
	f.Add("0")
	now := mustTime("2026-11-22T12:00:00Z")
	const year = 365 * 24 * time.Hour
	f.Fuzz(func(t *testing.T, v string) {
		d := parseRetryAfter(v, now)
		if d < 0 || d > year {
			t.Fatalf("parseRetryAfter(%q) = %s", v, d)
		}
		digits := strings.TrimSpace(v)
		if digits == "" || strings.Trim(digits, "0123456789") != "" {
			return
		}
		significant := strings.TrimLeft(digits, "0")
		switch {
		case significant == "" && d != 0:
			t.Fatalf("parseRetryAfter(%q) = %s, want 0", v, d)
		case significant != "" && d <= 0:
			t.Fatalf("parseRetryAfter(%q) = %s, want a positive delay", v, d)
		case len(significant) > 8 && d != year: // 10^8 s is beyond a year
			t.Fatalf("parseRetryAfter(%q) = %s, want the cap %s", v, d, year)
		}
	})
}

func TestHTTPSOnlyClientSendsHTTPS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer srv.Close()
	c := NewClientWithOptions(ClientOptions{AllowPrivateNetworks: true, HTTPSOnly: true})
	tr := c.Transport.(httpsOnlyTransport)
	defer tr.CloseIdleConnections()
	tr.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	res, err := c.Get(srv.URL)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusNoContent, res.StatusCode)
}
