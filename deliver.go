package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/outhook/webhook/internal/uid"
)

// response is what one HTTP request to an endpoint produced.
type response struct {
	status     int
	excerpt    string
	retryAfter time.Duration // from Retry-After on 429/503; 0 if absent
	err        error         // transport error, redacted of the URL: for the log
	failure    string        // err as a customer reads it (transportReason)
	// local is set when the request could not even be built or signed: a
	// configuration problem on the sender's side, not the endpoint's fault.
	local bool
}

func (r response) success() bool { return r.err == nil && r.status >= 200 && r.status < 300 }

// reason is the attempt's Error text, bounded by boundReason: empty on
// success.
func (r response) reason() string {
	switch {
	case r.err != nil && r.failure != "":
		return boundReason(r.failure)
	case r.err != nil:
		return boundReason(transportReason(r.err, phaseUnknown, false, 0))
	case r.success():
		return ""
	case r.status >= 300 && r.status < 400:
		return fmt.Sprintf("HTTP %d (redirects are not followed)", r.status)
	}
	return "HTTP " + strconv.Itoa(r.status)
}

// detail is the raw transport error for the log, bounded like a reason;
// empty when there was none.
func (r response) detail() string {
	if r.err == nil {
		return ""
	}
	return boundReason(r.err.Error())
}

// deliver makes one attempt of a claimed delivery and records it, or hands
// it to the completer to record. It reports whether the attempt still holds
// its place in the endpoint's allowance, to be given back (leaveFlow) once
// it is recorded; if not, the caller gives it back.
func (d *Dispatcher) deliver(ctx context.Context, c *Claim) (held bool) {
	ep := c.Endpoint
	p := &pendingCompletion{d: d, ctx: ctx, claim: c}
	a := &p.attempt
	*a = Attempt{
		ID:         uid.New(),
		DeliveryID: c.Delivery.ID,
		EventID:    c.Delivery.EventID,
		EndpointID: ep.ID,
		Number:     c.Delivery.Attempts + 1,
		StartedAt:  d.cfg.Clock(),
	}
	resp := d.send(d.attemptContext(ctx, c), ep, c.Secrets, c.Delivery.EventID, c.Body)
	d.adapt(ep.ID, resp)
	switch {
	case resp.local:
		// Not the endpoint's fault: charge it nothing. The lease expires
		// and the delivery is tried again, so nothing is lost while the
		// configuration is fixed.
		d.log.Error("webhook: cannot send; check Config.Signer and the endpoint's (or its tenant's) secret", "delivery", a.DeliveryID, "endpoint", ep.ID, "err", resp.detail())
		return false
	case ctx.Err() != nil && resp.err != nil:
		// Aborted by Shutdown or Start's context: our doing, not the
		// endpoint's. Record nothing; the lease expires and it is retried.
		d.log.Warn("webhook: attempt aborted by shutdown", "delivery", a.DeliveryID, "endpoint", ep.ID)
		return false
	}
	// The endpoint answered: record it even if Shutdown begins meanwhile, so
	// a delivered event is not sent again (bounded by Config.recordTimeout
	// and by Shutdown's context).
	now := d.cfg.Clock()
	fillAttempt(a, resp, now)

	comp := &p.comp
	*comp = Completion{DeliveryID: a.DeliveryID, Token: c.Token, Attempt: a, Now: now}
	switch {
	case resp.success():
		comp.Outcome = OutcomeSuccess
	case resp.err == nil && resp.status == http.StatusGone:
		comp.Outcome = OutcomeFail
		comp.DisableReason = boundReason("endpoint answered 410 Gone")
	case a.Number >= d.maxAttempts(ep):
		comp.Outcome = OutcomeFail
		comp.DisableAfter = max(d.cfg.DisableAfter, 0)
	default:
		comp.Outcome = OutcomeRetry
		comp.RetryAt = now.Add(d.retryDelay(a.Number, resp.retryAfter))
	}
	p.detail = resp.detail()
	// A failure may disable the endpoint: it keeps its place in the
	// endpoint's allowance until it is recorded, so no attempt goes to an
	// endpoint whose disabling is on its way to the Store. A success frees
	// it at once.
	p.held = comp.Outcome != OutcomeSuccess
	p.deadline = time.Now().Add(d.cfg.recordTimeout())
	if d.recordAsync(p) {
		return p.held // the completer records it; this attempt's worker is free
	}
	rctx, cancel := d.recordContext(ctx)
	defer cancel()
	after, disabled, err := d.store.Complete(rctx, *comp)
	p.done(rctx, CompletionResult{Endpoint: after, Disabled: disabled, Err: err})
	return p.held
}

// done is what an attempt does once its completion is recorded, with
// rctx the recording's context: the log line and hooks (recorded), the
// deliveries claimed ahead dropped if it disabled the endpoint, and the
// attempt's place in the endpoint's allowance given back if it held one.
func (p *pendingCompletion) done(rctx context.Context, r CompletionResult) {
	d, epID := p.d, p.claim.Endpoint.ID
	d.recorded(rctx, p.claim, p.comp, p.detail, r)
	if r.Disabled {
		// Given back, not only dropped: a claim the disable did not end
		// would stay leased until its lease ends (see dropReady).
		d.dropReady(p.ctx, epID)
	}
	if p.held {
		d.leaveFlow(p.ctx, epID)
	}
}

// recorded does what follows the recording of an attempt: a log line, and
// the OnAttempt and OnEndpointDisabled hooks.
func (d *Dispatcher) recorded(ctx context.Context, c *Claim, comp Completion, detail string, r CompletionResult) {
	a := comp.Attempt
	if err := r.Err; err != nil {
		level, msg := slog.LevelError, "webhook: recording attempt failed"
		switch {
		case errors.Is(err, ErrLeaseLost):
			level = slog.LevelWarn
		case d.abortRec.Err() != nil:
			// Shutdown ran out of time: the delivery is retried after its
			// lease, as documented on Shutdown.
			level, msg = slog.LevelWarn, "webhook: recording attempt cancelled by shutdown; it is retried after its lease"
		}
		d.log.Log(ctx, level, msg, "delivery", a.DeliveryID, "endpoint", a.EndpointID, "err", err)
		return
	}
	after := r.Endpoint
	d.logAttempt(ctx, c, a, comp, detail)
	if d.cfg.OnAttempt != nil {
		d.cfg.OnAttempt(AttemptResult{Attempt: *a, EventType: c.Delivery.EventType, Endpoint: *after, Outcome: comp.Outcome, RetryAt: comp.RetryAt})
	}
	if r.Disabled {
		d.log.Warn("webhook: endpoint disabled", "endpoint", after.ID, "tenant", after.TenantID,
			"url", redactURL(after.URL), "reason", boundReason(after.DisabledReason))
		if d.cfg.OnEndpointDisabled != nil {
			d.cfg.OnEndpointDisabled(*after)
		}
	}
}

func fillAttempt(a *Attempt, r response, now time.Time) {
	a.Duration = now.Sub(a.StartedAt)
	a.StatusCode = r.status
	a.ResponseBody = r.excerpt
	a.Error = r.reason()
	a.Success = r.success()
}

// logAttempt writes one line for a recorded attempt. Its err is the
// attempt's reason; detail, when set, the raw transport error behind it
// (redacted of the URL, bounded like a reason).
func (d *Dispatcher) logAttempt(ctx context.Context, c *Claim, a *Attempt, comp Completion, detail string) {
	level := slog.LevelWarn
	switch comp.Outcome {
	case OutcomeSuccess:
		level = slog.LevelDebug
	case OutcomeRetry:
		level = slog.LevelInfo
	}
	if !d.log.Enabled(ctx, level) {
		return // build no fields for a line nobody keeps
	}
	attrs := []any{
		"delivery", a.DeliveryID, "event", a.EventID, "type", c.Delivery.EventType,
		"endpoint", a.EndpointID, "url", redactURL(c.Endpoint.URL),
		"attempt", a.Number, "status", a.StatusCode, "duration", a.Duration,
	}
	if detail != "" {
		attrs = append(attrs, "detail", detail)
	}
	switch comp.Outcome {
	case OutcomeSuccess:
		d.log.DebugContext(ctx, "webhook: delivered", attrs...)
	case OutcomeRetry:
		d.log.InfoContext(ctx, "webhook: attempt failed; will retry", append(attrs, "err", a.Error, "retry_at", comp.RetryAt)...)
	default:
		d.log.WarnContext(ctx, "webhook: delivery failed", append(attrs, "err", a.Error)...)
	}
}

// maxAttempts is the endpoint's MaxAttempts, or the policy's.
func (d *Dispatcher) maxAttempts(ep *Endpoint) int {
	if ep.MaxAttempts > 0 {
		return ep.MaxAttempts
	}
	return d.cfg.Retry.Attempts()
}

// retryDelay is the policy's delay before retry n, stretched to honour a
// Retry-After (bounded by MaxRetryAfter).
func (d *Dispatcher) retryDelay(n int, retryAfter time.Duration) time.Duration {
	delay := d.cfg.Retry.Delay(n)
	return max(delay, min(retryAfter, d.cfg.MaxRetryAfter))
}

// send signs and sends body to ep once. It never returns an error that
// names the URL: the URL may carry a secret.
func (d *Dispatcher) send(ctx context.Context, ep *Endpoint, secrets []Secret, eventID string, body []byte) response {
	// The wall clock, not Config.Clock: this is the network's deadline,
	// the one the context below keeps.
	deadline := time.Now().Add(d.cfg.RequestTimeout)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	ctx, trace := withPhaseTrace(ctx)
	defer trace.release() // after the body is closed, below

	if ep.ContentType != ContentTypeJSON && isForm(ep.ContentType) {
		body = []byte("payload=" + url.QueryEscape(string(body)))
	}
	req, parts, err := newRequest(ctx, ep.Method, ep.URL, body)
	if err != nil {
		return response{err: redactError(err), local: true}
	}
	for k, vs := range ep.Headers {
		req.Header[k] = append([]string(nil), vs...)
	}
	setRequestHeaders(req.Header, &parts.vals, ep.ContentType, d.cfg.UserAgent, eventID)
	if err := d.sign(req.Header, ep, secrets, parts.secrets[:0], eventID, body); err != nil {
		return response{err: err, local: true}
	}

	res, err := d.do(req)
	if err != nil {
		err = redactError(err)
		spent := !time.Now().Before(deadline)
		return response{err: err, failure: transportReason(err, trace.phaseNow(), spent, d.cfg.RequestTimeout)}
	}
	defer res.Body.Close()
	// Read a bounded amount so the connection can be reused; never more.
	out := response{status: res.StatusCode, excerpt: readResponse(res.Body, d.cfg.ResponseExcerpt)}
	if res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusServiceUnavailable {
		out.retryAfter = parseRetryAfter(res.Header.Get("Retry-After"), d.cfg.Clock())
	}
	return out
}

// sign sets the signature headers of one attempt. An Unsigned endpoint
// gets none, only webhook-timestamp beside webhook-id; any other endpoint
// is signed by Config.Signer, which never sees an empty list of secrets:
// an endpoint with no active secret (a TenantSecret endpoint whose tenant
// has none) is not sent unsigned, but fails here, on the sender's side.
//
// values is where the list of secret values the Signer gets is made: an
// empty slice with room for the usual one or two.
func (d *Dispatcher) sign(h http.Header, ep *Endpoint, secrets []Secret, values []string, eventID string, body []byte) error {
	now := d.cfg.Clock()
	if ep.Unsigned {
		h.Set(HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
		return nil
	}
	if len(secrets) == 0 {
		if ep.TenantSecret {
			return fmt.Errorf("signing: tenant %q has no active secret; give it one with RotateTenantSecret or SetTenantSecret", ep.TenantID)
		}
		return errors.New("signing: the endpoint has no active secret")
	}
	for _, s := range secrets {
		values = append(values, s.Value)
	}
	msg := Message{ID: eventID, Timestamp: now, Body: body, Secrets: values}
	if err := d.cfg.Signer.Sign(h, msg); err != nil {
		return fmt.Errorf("signing: %w", err)
	}
	return nil
}

// excerpt returns at most n bytes of b as valid UTF-8 without NUL (which
// no PostgreSQL text column holds): invalid bytes, a rune cut in two at
// the end, and NULs are dropped.
func excerpt(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return strings.ReplaceAll(strings.ToValidUTF8(string(b), ""), "\x00", "")
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent,
// unparseable or in the past, and never more than a year. A number too large
// for int64 is a very long delay, so it saturates at the year like any other
// large value (Dispatcher.retryDelay then caps it at Config.MaxRetryAfter).
func parseRetryAfter(v string, now time.Time) time.Duration {
	const limit = 365 * 24 * time.Hour
	v = strings.TrimSpace(v)
	// Out of range, ParseInt returns ErrRange with the value saturated at
	// math.MaxInt64 or math.MinInt64: keep it, the sign is what matters.
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(limit/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), limit)
	}
	return 0
}
