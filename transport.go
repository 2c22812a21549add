package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Doer sends one HTTP request. *http.Client satisfies it; wrap one to add
// tracing or metrics. (Sending through a proxy defeats the default client's
// address guard, which would check the proxy's address, not the
// endpoint's.)
type Doer interface {
	// Do sends the request and returns the response, as http.Client.Do.
	Do(*http.Request) (*http.Response, error)
}

// Timeouts of the default client (ProductBridge's figures).
const (
	ConnectTimeoutDefault = 10 * time.Second
	RequestTimeoutDefault = 30 * time.Second
)

// ErrForbiddenAddress is returned (wrapped) when the default client refuses
// to connect to a non-public address.
var ErrForbiddenAddress = errors.New("webhook: destination address is not public")

// ErrNotHTTPS is returned (wrapped) when a client made with
// ClientOptions.HTTPSOnly (the default client under Config.HTTPSOnly) is
// asked to send a request that is not https.
var ErrNotHTTPS = errors.New("webhook: destination URL is not https")

// NewClient returns the client a Dispatcher uses when Config.Client is nil:
// a 10 s connect timeout, 30 s for the whole request, no redirects followed
// (the 3xx response is returned and counts as a failure), no proxy from the
// environment, a keep-alive pool sized for workers concurrent requests
// (all of them may go to one host), no compression asked for, and, unless
// allowPrivate, a guard that refuses at dial time, after
// DNS resolution, any address that is not public (loopback, private,
// link-local, multicast, unspecified, carrier-grade NAT, documentation and
// other reserved ranges), so DNS rebinding cannot slip past it.
//
// It is NewClientWithOptions(ClientOptions{AllowPrivateNetworks:
// allowPrivate, Workers: workers}); that one also sets the timeouts and
// https only.
func NewClient(allowPrivate bool, workers int) *http.Client {
	return NewClientWithOptions(ClientOptions{AllowPrivateNetworks: allowPrivate, Workers: workers})
}

// ClientOptions tunes NewClientWithOptions. Zero fields mean the defaults
// of NewClient.
type ClientOptions struct {
	// AllowPrivateNetworks turns the address guard off.
	AllowPrivateNetworks bool
	// Workers sizes the keep-alive pool (at least 2).
	Workers int
	// ConnectTimeout bounds the TCP connection and, separately, the TLS
	// handshake. Defaults to ConnectTimeoutDefault.
	ConnectTimeout time.Duration
	// RequestTimeout bounds the whole request and the wait for response
	// headers. Defaults to RequestTimeoutDefault.
	RequestTimeout time.Duration
	// HTTPSOnly refuses any request that is not https with an error
	// wrapping ErrNotHTTPS, before connecting. The client's Transport is
	// then a wrapper around the *http.Transport, not one itself.
	HTTPSOnly bool
}

// NewClientWithOptions returns NewClient's client with the timeouts of o
// and, if o.HTTPSOnly, refusing plain HTTP. The address guard stays on
// unless o.AllowPrivateNetworks: use it to wrap or tune a client (tracing,
// other timeouts) without giving the guard up.
func NewClientWithOptions(o ClientOptions) *http.Client {
	connect := o.ConnectTimeout
	if connect <= 0 {
		connect = ConnectTimeoutDefault
	}
	request := o.RequestTimeout
	if request <= 0 {
		request = RequestTimeoutDefault
	}
	dialer := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
	if !o.AllowPrivateNetworks {
		dialer.Control = guardDial
	}
	workers := max(o.Workers, 2)
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would dial for us and bypass the guard
		DialContext:            timedDial(dialer),
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           workers * 4,
		MaxIdleConnsPerHost:    workers,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    connect,
		ResponseHeaderTimeout:  request,
		MaxResponseHeaderBytes: 64 << 10,
		ExpectContinueTimeout:  time.Second,
		// No "Accept-Encoding: gzip": an answer is read for an excerpt of
		// at most ResponseExcerptDefault bytes, which compression saves
		// nothing on, while the header costs every request and answer.
		DisableCompression: true,
	}
	var rt http.RoundTripper = tr
	if o.HTTPSOnly {
		rt = httpsOnlyTransport{tr}
	}
	return &http.Client{
		Transport:     rt,
		Timeout:       request,
		CheckRedirect: noRedirect,
	}
}

// httpsOnlyTransport refuses requests that are not https. The embedded
// Transport gives it CloseIdleConnections, which Shutdown calls.
type httpsOnlyTransport struct {
	*http.Transport
}

// RoundTrip sends r if it is https.
func (t httpsOnlyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL == nil || r.URL.Scheme != "https" {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, ErrNotHTTPS
	}
	return t.Transport.RoundTrip(r)
}

// timedDial is d.DialContext, with a dial that outlasts d.Timeout (while
// the request still had time) reported as a *connectTimeoutError, so the
// attempt can say how long it waited to connect.
func timedDial(d *net.Dialer) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, address)
		var ne net.Error
		var dns *net.DNSError
		if err != nil && ctx.Err() == nil && d.Timeout > 0 &&
			errors.As(err, &ne) && ne.Timeout() && !errors.As(err, &dns) {
			err = &connectTimeoutError{after: d.Timeout, err: err}
		}
		return c, err
	}
}

// connectTimeoutError is a dial that took longer than the dialer allows.
type connectTimeoutError struct {
	after time.Duration
	err   error
}

func (e *connectTimeoutError) Error() string   { return e.err.Error() }
func (e *connectTimeoutError) Unwrap() error   { return e.err }
func (e *connectTimeoutError) Timeout() bool   { return true }
func (e *connectTimeoutError) Temporary() bool { return true }

// guardDial runs after DNS, on the exact address about to be dialled.
func guardDial(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
	}
	if !PublicAddr(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, ap.Addr())
	}
	return nil
}

// nonPublic lists the ranges net/netip's predicates do not cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64 (could reach IPv4 private space)
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4 (embeds any IPv4)
	netip.MustParsePrefix("2001::/32"),       // Teredo
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated)
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated
}

// PublicAddr reports whether the default client may connect to a: false
// for loopback, private, link-local, multicast, unspecified and the other
// reserved ranges. IPv4-mapped IPv6 addresses are judged as IPv4.
func PublicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsUnspecified() ||
		a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() ||
		a.IsMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}
