package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBoundReason(t *testing.T) {
	long := strings.Repeat("9", 60<<10)
	tests := []struct {
		name, in, want string
	}{
		{"short and clean is kept", "HTTP 503", "HTTP 503"},
		{"empty", "", ""},
		{"exactly the limit", strings.Repeat("a", MaxReasonLen), strings.Repeat("a", MaxReasonLen)},
		{"one over the limit", strings.Repeat("a", MaxReasonLen+1), strings.Repeat("a", MaxReasonLen-3) + "…"},
		{"60 kB", "malformed " + long, "malformed " + long[:MaxReasonLen-3-len("malformed ")] + "…"},
		{"cut at a rune boundary", strings.Repeat("é", MaxReasonLen), strings.Repeat("é", (MaxReasonLen-3)/2) + "…"},
		{"invalid UTF-8", "bad \xff\xfe byte", "bad \uFFFD\uFFFD byte"},
		{"NUL and newlines", "a\x00b\r\nc\td\x1b[31m", "a b  c d [31m"},
		{"C1 control and DEL", "a\u0085b\x7fc", "a b c"},
		{"line separators", "a\u2028b\u2029c", "a b c"},
		{"surrounding space", "  timed out \n", "timed out"},
		{"U+FFFD itself is kept", "a\uFFFDb", "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := boundReason(tt.in)
			assert.Equal(t, tt.want, got)
			assert.LessOrEqual(t, len(got), MaxReasonLen)
			assert.True(t, utf8.ValidString(got))
		})
	}
}

// Whatever a receiver makes a reason say, what is stored and logged is
// short, valid UTF-8, printable, and already in its final form.
func FuzzBoundReason(f *testing.F) {
	f.Add("HTTP 503")
	f.Add("malformed HTTP status code \"" + strings.Repeat("9", 2000) + "\"")
	f.Add(strings.Repeat("é", MaxReasonLen))
	f.Add("a\x00b\xff\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		got := boundReason(s)
		if len(got) > MaxReasonLen || !utf8.ValidString(got) {
			t.Fatalf("boundReason(%q) = %q: %d bytes", s, got, len(got))
		}
		for _, r := range got {
			if isControl(r) {
				t.Fatalf("boundReason(%q) = %q keeps control %U", s, got, r)
			}
		}
		if again := boundReason(got); again != got {
			t.Fatalf("not idempotent: %q then %q", got, again)
		}
		if len(s) <= MaxReasonLen && cleanReason(s) && got != s {
			t.Fatalf("a clean reason was changed: %q to %q", s, got)
		}
	})
}

// timeoutError is a net.Error timeout, as net/http's own unexported ones
// ("net/http: timeout awaiting response headers", "Client.Timeout
// exceeded").
type timeoutError string

func (e timeoutError) Error() string   { return string(e) }
func (e timeoutError) Timeout() bool   { return true }
func (e timeoutError) Temporary() bool { return true }

func TestTransportReason(t *testing.T) {
	dial := func(err error) error { return &net.OpError{Op: "dial", Net: "tcp", Err: err} }
	read := func(err error) error {
		return &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: err}}
	}
	const waiting = "timed out after 30s waiting for the response"
	const connecting = "timed out after 30s connecting"
	tests := []struct {
		name  string
		err   error
		phase sendPhase
		spent bool
		want  string
	}{
		// The one timeout, however it surfaced, reads the same.
		{"context deadline", context.DeadlineExceeded, phaseConnected, true, waiting},
		{"response header timeout", timeoutError("net/http: timeout awaiting response headers"), phaseConnected, true, waiting},
		{"client timeout", timeoutError("context deadline exceeded (Client.Timeout exceeded while awaiting headers)"), phaseConnected, true, waiting},
		{"canceled by the deadline", errors.New("net/http: request canceled"), phaseConnected, true, waiting},
		{"deadline while dialling", context.DeadlineExceeded, phaseConnecting, true, connecting},
		{"deadline in the TLS handshake", timeoutError("net/http: TLS handshake timeout"), phaseConnecting, true, connecting},
		{"dial timeout, no trace", dial(timeoutError("i/o timeout")), phaseUnknown, true, connecting},
		{"deadline, no trace", context.DeadlineExceeded, phaseUnknown, true, waiting},
		{"dialer's own timeout", &connectTimeoutError{after: ConnectTimeoutDefault, err: dial(timeoutError("i/o timeout"))}, phaseConnecting, false, "timed out after 10s connecting"},
		{"TLS handshake timeout", timeoutError("net/http: TLS handshake timeout"), phaseConnecting, false, "timed out during the TLS handshake"},
		{"Doer's own timeout, connected", timeoutError("deadline"), phaseConnected, false, "timed out waiting for the response"},
		{"Doer's own timeout, connecting", timeoutError("deadline"), phaseConnecting, false, "timed out connecting"},

		{"SSRF guard", dial(fmt.Errorf("%w: 10.0.0.1", ErrForbiddenAddress)), phaseConnecting, false, "address not public (refused by the SSRF guard)"},
		{"SSRF guard at the deadline", dial(fmt.Errorf("%w: 10.0.0.1", ErrForbiddenAddress)), phaseConnecting, true, "address not public (refused by the SSRF guard)"},
		{"refused", dial(&os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}), phaseConnecting, false, "connection refused"},
		{"reset", read(syscall.ECONNRESET), phaseConnected, false, "connection reset by the endpoint"},
		{"broken pipe", &net.OpError{Op: "write", Err: &os.SyscallError{Syscall: "write", Err: syscall.EPIPE}}, phaseConnected, false, "connection reset by the endpoint"},
		{"host unreachable", dial(&os.SyscallError{Syscall: "connect", Err: syscall.EHOSTUNREACH}), phaseConnecting, false, "endpoint unreachable"},
		{"network unreachable", dial(&os.SyscallError{Syscall: "connect", Err: syscall.ENETUNREACH}), phaseConnecting, false, "endpoint unreachable"},
		{"other dial error", dial(&os.SyscallError{Syscall: "socket", Err: syscall.EMFILE}), phaseConnecting, false, "could not connect"},
		{"no such host", dial(&net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}), phaseConnecting, false, "DNS lookup failed: no such host"},
		{"DNS timeout", dial(&net.DNSError{Err: "i/o timeout", Name: "x.example", IsTimeout: true}), phaseConnecting, false, "DNS lookup timed out"},
		{"DNS server failure", dial(&net.DNSError{Err: "server misbehaving", Name: "x.example"}), phaseConnecting, false, "DNS lookup failed"},

		{"unknown authority", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, phaseConnecting, false, "TLS certificate not trusted"},
		{"wrong host", &tls.CertificateVerificationError{Err: x509.HostnameError{Certificate: &x509.Certificate{}, Host: "x"}}, phaseConnecting, false, "TLS certificate is for another host"},
		{"expired", &tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Reason: x509.Expired}}, phaseConnecting, false, "TLS certificate expired or not yet valid"},
		{"not a CA", &tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Reason: x509.NotAuthorizedToSign}}, phaseConnecting, false, "TLS certificate not trusted"},
		{"record header", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, phaseConnecting, false, "TLS handshake failed"},
		{"alert", &net.OpError{Op: "remote error", Err: tls.AlertError(40)}, phaseConnecting, false, "TLS handshake failed"},
		{"plain HTTP", errors.New("http: server gave HTTP response to HTTPS client"), phaseConnecting, false, "TLS handshake failed: the endpoint answered plain HTTP"},

		{"malformed status", fmt.Errorf("net/http: HTTP/1.x transport connection broken: %w", errors.New(`malformed HTTP status code "999"`)), phaseConnected, false, "malformed HTTP response"},
		{"malformed header", textproto.ProtocolError("malformed MIME header line: x"), phaseConnected, false, "malformed HTTP response"},
		{"headers too large", errors.New("net/http: HTTP/1.x transport connection broken: net/http: server response headers exceeded 65536 bytes; aborted"), phaseConnected, false, "response headers too large"},
		{"EOF", io.EOF, phaseConnected, false, "endpoint closed the connection before responding"},
		{"unexpected EOF", fmt.Errorf("broken: %w", io.ErrUnexpectedEOF), phaseConnected, false, "endpoint closed the connection before responding"},
		{"idle connection closed", errors.New("http: server closed idle connection"), phaseConnected, false, "endpoint closed the connection before responding"},
		{"canceled", context.Canceled, phaseConnected, false, "request canceled"},
		{"connection broken", errors.New("net/http: HTTP/1.x transport connection broken: write error"), phaseConnected, false, "connection lost before the response"},
		{"a Doer's own error", errors.New("circuit breaker open"), phaseUnknown, false, "request failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, transportReason(tt.err, tt.phase, tt.spent, RequestTimeoutDefault))
		})
	}
}

func TestFormatDuration(t *testing.T) {
	tests := map[time.Duration]string{
		0:                                     "0s",
		30 * time.Second:                      "30s",
		300 * time.Millisecond:                "300ms",
		1500 * time.Millisecond:               "1.5s",
		time.Minute:                           "1m",
		90 * time.Second:                      "1m30s",
		2 * time.Hour:                         "2h",
		90 * time.Minute:                      "1h30m",
		time.Hour + 5*time.Second:             "1h5s",
		time.Hour + time.Minute + time.Second: "1h1m1s",
	}
	for d, want := range tests {
		t.Run(want, func(t *testing.T) { assert.Equal(t, want, formatDuration(d)) })
	}
}

// The response excerpt goes into every Store as text: valid UTF-8, no
// NUL (PostgreSQL refuses it), at most n bytes.
func TestExcerpt(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"kept", `{"ok":true}`, 1024, `{"ok":true}`},
		{"cut", "abcdef", 3, "abc"},
		{"NUL dropped", "a\x00b\x00", 1024, "ab"},
		{"invalid bytes dropped", "a\xffb", 1024, "ab"},
		{"rune cut in two dropped", "aé", 2, "a"},
		{"newlines kept", "line1\nline2", 1024, "line1\nline2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := excerpt([]byte(tt.in), tt.n)
			assert.Equal(t, tt.want, got)
			assert.LessOrEqual(t, len(got), tt.n)
		})
	}
}

// A dial that outlasts the default client's connect timeout says how long
// it waited; one ended by the request's own context does not claim to be
// the dialer's.
func TestTimedDialReportsTheConnectTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()

	_, err = timedDial(&net.Dialer{Timeout: time.Nanosecond})(context.Background(), "tcp", ln.Addr().String())
	var ct *connectTimeoutError
	require.ErrorAs(t, err, &ct)
	assert.Equal(t, time.Nanosecond, ct.after)
	assert.Equal(t, "timed out after 1ns connecting", transportReason(err, phaseConnecting, false, RequestTimeoutDefault))

	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	_, err = timedDial(&net.Dialer{Timeout: ConnectTimeoutDefault})(ctx, "tcp", ln.Addr().String())
	require.Error(t, err)
	assert.False(t, errors.As(err, &ct))
}
