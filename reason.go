package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxReasonLen bounds every failure reason the Dispatcher writes: an
// Attempt's Error, and so a Delivery's LastError and an Endpoint's
// LastFailureReason, the reason it disables an endpoint with, and the
// receiver-supplied detail in its log lines. A reason is at most
// MaxReasonLen bytes of valid UTF-8 without control characters; a longer
// one is cut at a character boundary and ends in "…". A receiver decides
// much of what a reason says, so this keeps what it can make every Store
// hold, and every log line carry, small and printable.
const MaxReasonLen = 1024

// boundReason returns s as a reason: invalid UTF-8 replaced by U+FFFD,
// control characters (NUL, newlines, escapes) by spaces, surrounding space
// trimmed, and at most MaxReasonLen bytes, cut at a rune boundary with "…".
func boundReason(s string) string {
	if len(s) <= MaxReasonLen && cleanReason(s) {
		return s
	}
	const ellipsis = "…"
	var b strings.Builder
	b.Grow(min(len(s), MaxReasonLen))
	cut := -1 // where the text ends if it must be cut
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError && size <= 1 {
			r = utf8.RuneError // written as the 3-byte U+FFFD
		} else if isControl(r) {
			r = ' '
		}
		if cut < 0 && b.Len()+utf8.RuneLen(r) > MaxReasonLen-len(ellipsis) {
			cut = b.Len()
		}
		if b.Len()+utf8.RuneLen(r) > MaxReasonLen {
			out := strings.TrimSpace(b.String()[:cut])
			return out + ellipsis
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// cleanReason reports whether s is already valid UTF-8 without control
// characters or surrounding space.
func cleanReason(s string) bool {
	if !utf8.ValidString(s) || strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if isControl(r) {
			return false
		}
	}
	return true
}

// isControl is true for the C0 and C1 controls, DEL, and the Unicode line
// and paragraph separators: what could break a log line or a database
// column.
func isControl(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// Transport failure reasons: what Attempt.Error says when no response
// arrived. Timeouts say how long was waited ("timed out after 30s waiting
// for the response"); the rest are fixed.
const (
	reasonRefused          = "connection refused"
	reasonReset            = "connection reset by the endpoint"
	reasonClosed           = "endpoint closed the connection before responding"
	reasonUnreachable      = "endpoint unreachable"
	reasonConnectFailed    = "could not connect"
	reasonDNSNotFound      = "DNS lookup failed: no such host"
	reasonDNSFailed        = "DNS lookup failed"
	reasonDNSTimeout       = "DNS lookup timed out"
	reasonNotPublic        = "address not public (refused by the SSRF guard)"
	reasonNotHTTPS         = "refused: not https (Config.HTTPSOnly)"
	reasonTLSUntrusted     = "TLS certificate not trusted"
	reasonTLSWrongHost     = "TLS certificate is for another host"
	reasonTLSExpired       = "TLS certificate expired or not yet valid"
	reasonTLSHandshake     = "TLS handshake failed"
	reasonTLSPlainHTTP     = "TLS handshake failed: the endpoint answered plain HTTP"
	reasonTLSTimeout       = "timed out during the TLS handshake"
	reasonMalformed        = "malformed HTTP response"
	reasonHeadersTooLarge  = "response headers too large"
	reasonConnectionBroken = "connection lost before the response"
	reasonCanceled         = "request canceled"
	reasonFailed           = "request failed"
)

// sendPhase is how far a request got before it failed, as an
// httptrace.ClientTrace saw it.
type sendPhase int

const (
	phaseUnknown    sendPhase = iota // no trace event: a Doer that does not use http.Transport
	phaseConnecting                  // waiting for a connection: DNS, dial, TLS handshake
	phaseConnected                   // connected: sending the request or waiting for the response
)

// transportReason maps the error of a request that got no response to a
// short, stable reason a customer can act on (the raw error, which varies
// between runs and reads as Go internals, goes to the log only). spent
// reports that the request used up its whole budget, Config.RequestTimeout,
// whatever error the Doer returned as a result.
func transportReason(err error, phase sendPhase, spent bool, budget time.Duration) string {
	if errors.Is(err, ErrForbiddenAddress) {
		return reasonNotPublic
	}
	if errors.Is(err, ErrNotHTTPS) {
		return reasonNotHTTPS
	}
	connecting := phase == phaseConnecting || phase == phaseUnknown && isDialError(err)
	if spent {
		if connecting {
			return "timed out after " + formatDuration(budget) + " connecting"
		}
		return "timed out after " + formatDuration(budget) + " waiting for the response"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		switch {
		case dnsErr.IsNotFound:
			return reasonDNSNotFound
		case dnsErr.IsTimeout:
			return reasonDNSTimeout
		}
		return reasonDNSFailed
	}
	var ct *connectTimeoutError
	if errors.As(err, &ct) {
		return "timed out after " + formatDuration(ct.after) + " connecting"
	}
	msg := err.Error()
	if strings.Contains(msg, "TLS handshake timeout") {
		return reasonTLSTimeout
	}
	if isTimeout(err) {
		// A timeout of the Doer's own, shorter than RequestTimeout: its
		// length is not known here.
		if connecting {
			return "timed out connecting"
		}
		return "timed out waiting for the response"
	}
	if r := tlsReason(err); r != "" {
		return r
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return reasonRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return reasonReset
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return reasonUnreachable
	case strings.Contains(msg, "response headers exceeded"):
		return reasonHeadersTooLarge
	case isMalformed(err, msg):
		return reasonMalformed
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		strings.Contains(msg, "server closed idle connection"):
		return reasonClosed
	case errors.Is(err, context.Canceled):
		return reasonCanceled
	case isDialError(err):
		return reasonConnectFailed
	case strings.Contains(msg, "connection broken"):
		return reasonConnectionBroken
	}
	return reasonFailed
}

// tlsReason names a TLS failure, or returns "".
func tlsReason(err error) string {
	var (
		unknown   x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
		record    tls.RecordHeaderError
		alert     tls.AlertError
		sysRoots  x509.SystemRootsError
		constrain x509.ConstraintViolationError
	)
	switch {
	case errors.As(err, &unknown), errors.As(err, &sysRoots):
		return reasonTLSUntrusted
	case errors.As(err, &hostname):
		return reasonTLSWrongHost
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired {
			return reasonTLSExpired
		}
		return reasonTLSUntrusted
	case errors.As(err, &constrain), errors.As(err, &verify):
		return reasonTLSUntrusted
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return reasonTLSPlainHTTP
	case errors.As(err, &record), errors.As(err, &alert),
		strings.Contains(err.Error(), "tls: "):
		return reasonTLSHandshake
	}
	return ""
}

// isMalformed reports whether the endpoint's answer was not HTTP.
func isMalformed(err error, msg string) bool {
	var pe textproto.ProtocolError
	if errors.As(err, &pe) {
		return true
	}
	for _, s := range []string{"malformed HTTP", "malformed MIME", "bad Content-Length", "unsupported transfer encoding", "invalid header", "too many transfer encodings"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// isTimeout reports whether err is any kind of timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// isDialError reports whether err arose while connecting.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// formatDuration writes d briefly: "30s", "2m", "1m30s", "1.5s", "250ms".
func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strings.TrimSuffix(d.String(), "0s") // "1h30m0s" → "1h30m"
	}
	return strings.Replace(d.String(), "h0m", "h", 1) // "1h0m5s" → "1h5s"
}
