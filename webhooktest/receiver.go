package webhooktest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/verify"
)

// Request is one request a Receiver got, recorded as it arrived.
type Request struct {
	// N counts the requests since NewReceiver or the last Reset: 1 for
	// the first.
	N int
	// Time is when the request arrived, by the wall clock.
	Time time.Time
	// Method is the HTTP method: POST, PUT or PATCH.
	Method string
	// URI is the request's path and query as sent ("/hook?key=…").
	URI string
	// Header holds the request's headers.
	Header http.Header
	// Body holds the raw bytes of the body, exactly as sent.
	Body []byte

	// Verified reports whether the signature checked out against the
	// Receiver's verifier when the request arrived.
	Verified bool
	// VerifyErr says why it did not: it wraps one of package verify's
	// errors (verify.ErrNoMatch for a wrong secret, verify.ErrNoSecret when
	// the Receiver was given none). Nil when Verified.
	VerifyErr error

	// EventID and EventType are the envelope's "id" and "type" when the
	// body (or the payload field of a form-encoded body) is a JSON object;
	// EventID falls back to the webhook-id header. Empty otherwise.
	EventID   string
	EventType string
	// Envelope is the whole parsed envelope (zero if the body is not a
	// JSON object), as verify.ParseEnvelope reads it.
	Envelope verify.Envelope
}

// WebhookID returns the webhook-id header: the event's ID, the same on
// every attempt.
func (r Request) WebhookID() string { return r.Header.Get(webhook.HeaderWebhookID) }

// VerifyWith checks the request's signature with v, for a secret the
// Receiver did not know when the request arrived.
func (r Request) VerifyWith(v verify.Verifier) error { return v.Verify(r.Header, r.Body) }

func (r Request) clone() Request {
	r.Header = r.Header.Clone()
	r.Body = bytes.Clone(r.Body)
	return r
}

// A Responder answers one request. r's body has been read and is readable
// again; n is Request.N. A Responder that writes nothing answers 200, as
// any http.Handler. One that blocks (to hold a request in flight) must
// return before the test ends: release it in a defer, or in a t.Cleanup
// registered after NewReceiver (cleanups run last-registered first), since
// the Receiver's server waits for its handlers when it closes.
type Responder func(w http.ResponseWriter, r *http.Request, n int)

// Status answers every request with code and no body.
func Status(code int) Responder {
	return func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(code) }
}

// RetryAfter answers with code (429 or 503, say) and a Retry-After header
// of after in whole seconds, rounded up.
func RetryAfter(code int, after time.Duration) Responder {
	secs := int64((after + time.Second - 1) / time.Second)
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		w.WriteHeader(code)
	}
}

// Sequence scripts a series of answers: the n-th request gets rs[n-1],
// and every request after the last gets the last. With none, it answers
// 204.
func Sequence(rs ...Responder) Responder {
	return func(w http.ResponseWriter, r *http.Request, n int) {
		switch {
		case len(rs) == 0:
			w.WriteHeader(http.StatusNoContent)
		case n <= len(rs):
			rs[n-1](w, r, n)
		default:
			rs[len(rs)-1](w, r, n)
		}
	}
}

// Delay waits d, or until the sender gives up on the request, and then
// answers with then (204 if nil): a slow receiver, for timeouts.
func Delay(d time.Duration, then Responder) Responder {
	if then == nil {
		then = Status(http.StatusNoContent)
	}
	return func(w http.ResponseWriter, r *http.Request, n int) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
		then(w, r, n)
	}
}

// Option configures a Receiver.
type Option func(*Receiver)

// WithSigner makes the Receiver verify the scheme signer signs with:
// webhook.StandardSigner (the default), webhook.HMACSigner or
// webhook.StripeSigner, with their Header and Prefix. NewReceiver fails
// the test for any other Signer: use WithVerifier for those.
func WithSigner(signer webhook.Signer) Option {
	return func(r *Receiver) {
		switch s := signer.(type) {
		case nil, webhook.StandardSigner, *webhook.StandardSigner:
			r.scheme = func(secrets []string, now func() time.Time) verify.Verifier {
				return verify.Standard{Secrets: secrets, Now: now}
			}
		case webhook.HMACSigner:
			r.scheme = hmacScheme(s)
		case *webhook.HMACSigner:
			r.scheme = hmacScheme(*s)
		case webhook.StripeSigner:
			r.scheme = stripeScheme(s)
		case *webhook.StripeSigner:
			r.scheme = stripeScheme(*s)
		default:
			r.optErr = fmt.Errorf("webhooktest: WithSigner: no verifier known for %T; use WithVerifier", signer)
		}
	}
}

func hmacScheme(s webhook.HMACSigner) func([]string, func() time.Time) verify.Verifier {
	return func(secrets []string, _ func() time.Time) verify.Verifier {
		return verify.HMAC{Secrets: secrets, Header: s.Header, Prefix: s.Prefix}
	}
}

func stripeScheme(s webhook.StripeSigner) func([]string, func() time.Time) verify.Verifier {
	return func(secrets []string, now func() time.Time) verify.Verifier {
		return verify.Stripe{Secrets: secrets, Header: s.Header, Now: now}
	}
}

// WithSecrets gives the Receiver the secrets to verify with, as a
// customer's receiver holds them: several during a rotation. Secrets known
// only after the endpoint is created go in with AddSecret.
func WithSecrets(secrets ...string) Option {
	return func(r *Receiver) { r.secrets = append(r.secrets, secrets...) }
}

// WithClock sets the clock the timestamped schemes (Standard Webhooks,
// Stripe) check the signed time against; it defaults to time.Now. Give it
// the Dispatcher's Config.Clock when that is not the wall clock.
func WithClock(now func() time.Time) Option {
	return func(r *Receiver) { r.now = now }
}

// WithVerifier makes the Receiver check every request with v instead of a
// scheme and its secrets (WithSigner, WithSecrets, AddSecret and WithClock
// then have no effect): for a Signer of your own, or a verifier set up in
// a way the options do not cover.
func WithVerifier(v verify.Verifier) Option {
	return func(r *Receiver) { r.fixed = v }
}

// WithStatus makes the Receiver answer every request with code.
func WithStatus(code int) Option { return WithResponder(Status(code)) }

// WithResponder makes the Receiver answer with f: scripted failures
// (Sequence), Retry-After (RetryAfter), slow answers (Delay), or anything
// a handler can do.
func WithResponder(f Responder) Option {
	return func(r *Receiver) { r.respond = f }
}

// Receiver is a webhook endpoint for tests, like an httptest.Server: a
// real HTTP server on loopback that records every request, checks its
// signature, and answers as scripted (204 No Content unless told
// otherwise). Its methods are safe for concurrent use.
type Receiver struct {
	srv *httptest.Server

	// Set by options before the server starts; scheme and fixed are
	// read-only afterwards.
	scheme func(secrets []string, now func() time.Time) verify.Verifier
	fixed  verify.Verifier
	now    func() time.Time
	optErr error

	mu      sync.Mutex
	secrets []string
	respond Responder
	reqs    []Request
	changed chan struct{} // closed, and replaced, when a request arrives or Reset
}

// NewReceiver starts a Receiver on loopback and closes it when the test
// ends (t.Cleanup). Without options it verifies Standard Webhooks
// signatures, has no secret yet (so requests are recorded unverified until
// AddSecret), and answers 204.
func NewReceiver(t testing.TB, opts ...Option) *Receiver {
	t.Helper()
	r := &Receiver{respond: Status(http.StatusNoContent), changed: make(chan struct{})}
	WithSigner(nil)(r)
	for _, o := range opts {
		o(r)
	}
	if r.optErr != nil {
		t.Fatalf("%v", r.optErr)
	}
	if r.respond == nil {
		r.respond = Status(http.StatusNoContent)
	}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// URL returns the Receiver's base URL, "http://127.0.0.1:port"; append a
// path or query to tell endpoints apart.
func (r *Receiver) URL() string { return r.srv.URL }

// Close shuts the server down, waiting for requests in flight; later
// deliveries to it fail with a refused connection. NewReceiver's cleanup
// calls it too.
func (r *Receiver) Close() { r.srv.Close() }

// AddSecret adds secrets to verify later requests with: typically the
// secret CreateEndpoint returned, or RotateSecret's.
func (r *Receiver) AddSecret(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets = append(r.secrets, secrets...)
}

// SetResponder makes later requests be answered by f.
func (r *Receiver) SetResponder(f Responder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.respond = f
}

// SetStatus makes later requests be answered with code.
func (r *Receiver) SetStatus(code int) { r.SetResponder(Status(code)) }

// Requests returns a copy of every request recorded since NewReceiver or
// the last Reset, in order of arrival.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Request, len(r.reqs))
	for i, q := range r.reqs {
		out[i] = q.clone()
	}
	return out
}

// Len returns how many requests have been recorded since NewReceiver or
// the last Reset.
func (r *Receiver) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

// Changed returns a channel closed when the next request arrives (or on
// Reset). Take it before looking at Requests, so no request slips in
// between unseen.
func (r *Receiver) Changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changed
}

// Reset forgets the recorded requests; N counts from 1 again. Secrets and
// the responder stay.
func (r *Receiver) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = nil
	r.notifyLocked()
}

// WaitFor waits until at least n requests are recorded and returns them
// (all of them, perhaps more than n). It fails the test (t.Fatalf) when
// timeout passes first.
func (r *Receiver) WaitFor(t testing.TB, n int, timeout time.Duration) []Request {
	t.Helper()
	if reqs, ok := r.wait(timeout, func(reqs []Request) bool { return len(reqs) >= n }); ok {
		return reqs
	}
	t.Fatalf("webhooktest: receiver got %d requests within %s, want at least %d", r.Len(), timeout, n)
	return nil
}

// wait blocks until cond holds for the recorded requests or timeout
// passes, and returns a copy of them and whether cond held. It sleeps on
// Changed, not on a fixed tick.
func (r *Receiver) wait(timeout time.Duration, cond func([]Request) bool) ([]Request, bool) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		r.mu.Lock()
		ok := cond(r.reqs)
		ch := r.changed
		r.mu.Unlock()
		if ok {
			return r.Requests(), true
		}
		select {
		case <-ch:
		case <-timer.C:
			return r.Requests(), false
		}
	}
}

func (r *Receiver) notifyLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *Receiver) serve(w http.ResponseWriter, hr *http.Request) {
	body, err := io.ReadAll(hr.Body)
	if err != nil {
		http.Error(w, "webhooktest: reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	hr.Body = io.NopCloser(bytes.NewReader(body))
	q := Request{
		Time:   time.Now(),
		Method: hr.Method,
		URI:    hr.URL.RequestURI(),
		Header: hr.Header.Clone(),
		Body:   body,
	}
	if env, err := verify.ParseEnvelope(hr.Header.Get("Content-Type"), body, hr.Header.Get(webhook.HeaderWebhookID)); err == nil {
		q.Envelope, q.EventID, q.EventType = env, env.ID, env.Type
	}

	r.mu.Lock()
	v := r.fixed
	if v == nil {
		v = r.scheme(append([]string(nil), r.secrets...), r.now)
	}
	respond := r.respond
	r.mu.Unlock()
	q.VerifyErr = v.Verify(q.Header, body)
	q.Verified = q.VerifyErr == nil

	r.mu.Lock()
	q.N = len(r.reqs) + 1
	r.reqs = append(r.reqs, q)
	r.notifyLocked()
	r.mu.Unlock()

	respond(w, hr, q.N)
}
