package verify

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
)

// DefaultMaxBodyBytes bounds the body Handler reads: 1 MiB, room for
// outhook's default 256 KiB payload limit even form-encoded.
const DefaultMaxBodyBytes = 1 << 20

// Handler verifies each request before passing it to Next. It reads the
// raw body (at most MaxBodyBytes), checks it with Verifier, parses the
// envelope, and calls Next with the body restored (r.Body reads the same
// bytes again) and a *Payload in the context (FromContext).
//
// It answers by itself, with nothing but the status text, when a request
// fails: 401 Unauthorized when the signature or timestamp does not check
// out (whichever check failed; an attacker learns nothing from which), 400
// Bad Request when the body is unreadable, larger than the limit, or not a
// JSON envelope. A verifier misconfiguration (no secret, a bad secret)
// answers 500 and is logged at Error level. The reason for every refusal
// goes to Logger, never to the caller.
type Handler struct {
	// Verifier checks each request. Required.
	Verifier Verifier
	// Next receives verified requests. Required.
	Next http.Handler
	// MaxBodyBytes bounds the body. Defaults to DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger receives one Warn record per refused request, with the
	// reason. Defaults to none (nothing logged).
	Logger *slog.Logger
}

// Middleware returns a function that wraps a handler in a Handler using v,
// for routers that chain func(http.Handler) http.Handler.
func Middleware(v Verifier) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return &Handler{Verifier: v, Next: next}
	}
}

type ctxKey struct{}

// FromContext returns the verified payload Handler put in a request's
// context, and whether there is one.
func FromContext(ctx context.Context) (*Payload, bool) {
	p, ok := ctx.Value(ctxKey{}).(*Payload)
	return p, ok
}

// NewContext returns a copy of ctx carrying p, as Handler passes it on.
// Tests of a handler that sits behind Handler can use it to build requests.
func NewContext(ctx context.Context, p *Payload) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// ServeHTTP implements http.Handler.
func (m *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	limit := m.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	if r.ContentLength > limit {
		m.refuse(w, r, http.StatusBadRequest, "body over the size limit", nil)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		m.refuse(w, r, http.StatusBadRequest, "reading body", err)
		return
	}
	if int64(len(body)) > limit {
		m.refuse(w, r, http.StatusBadRequest, "body over the size limit", nil)
		return
	}
	if m.Verifier == nil {
		m.refuse(w, r, http.StatusInternalServerError, "verify.Handler has no Verifier", nil)
		return
	}
	if err := m.Verifier.Verify(r.Header, body); err != nil {
		status := http.StatusUnauthorized
		if errors.Is(err, ErrNoSecret) || errors.Is(err, ErrBadSecret) {
			status = http.StatusInternalServerError
		}
		m.refuse(w, r, status, "signature check failed", err)
		return
	}
	env, err := ParseEnvelope(r.Header.Get("Content-Type"), body, headerID(r.Header))
	if err != nil {
		m.refuse(w, r, http.StatusBadRequest, "verified body is not an envelope", err)
		return
	}
	if m.Next == nil {
		m.refuse(w, r, http.StatusInternalServerError, "verify.Handler has no Next", nil)
		return
	}
	r2 := r.WithContext(NewContext(r.Context(), &Payload{Body: body, Envelope: env}))
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	m.Next.ServeHTTP(w, r2)
}

func (m *Handler) refuse(w http.ResponseWriter, r *http.Request, status int, msg string, err error) {
	if m.Logger != nil {
		level := slog.LevelWarn
		if status >= 500 {
			level = slog.LevelError
		}
		attrs := []any{slog.String("remote", r.RemoteAddr), slog.Int("status", status)}
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		m.Logger.Log(r.Context(), level, "webhook refused: "+msg, attrs...)
	}
	http.Error(w, http.StatusText(status), status)
}
