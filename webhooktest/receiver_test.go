package webhooktest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/verify"
	"github.com/outhook/webhook/webhooktest"
)

const wait = 10 * time.Second // generous: shared, loaded machines

// TestReceiverVerifiesEachScheme sends a real delivery with each Signer
// the library ships to a Receiver set up for it: it verifies with the
// endpoint's secret, and a Receiver holding another secret records the
// request as unverified with verify.ErrNoMatch.
func TestReceiverVerifiesEachScheme(t *testing.T) {
	other, err := webhook.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		signer webhook.Signer
		header string // the signature header it sets
	}{
		{"standard", webhook.StandardSigner{}, "webhook-signature"},
		{"standard pointer", &webhook.StandardSigner{}, "webhook-signature"},
		{"hmac", webhook.HMACSigner{Header: "X-Hub-Signature-256", Prefix: "sha256="}, "X-Hub-Signature-256"},
		{"hmac default header", &webhook.HMACSigner{}, verify.DefaultHMACHeader},
		{"stripe", webhook.StripeSigner{Header: "Stripe-Signature"}, "Stripe-Signature"},
		{"stripe default header", &webhook.StripeSigner{}, verify.DefaultStripeHeader},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			good := webhooktest.NewReceiver(t, webhooktest.WithSigner(tt.signer))
			wrong := webhooktest.NewReceiver(t, webhooktest.WithSigner(tt.signer), webhooktest.WithSecrets(other))
			d := webhooktest.NewMemDispatcher(t, &webhook.Config{Signer: tt.signer})
			ep, secret, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: good.URL() + "/in?key=1"})
			if err != nil {
				t.Fatal(err)
			}
			good.AddSecret(secret)
			if _, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: wrong.URL(), Secret: secret}); err != nil {
				t.Fatal(err)
			}
			ev, err := d.Publish(ctx, webhook.Event{Type: "post.created", TenantID: "acme", Data: map[string]string{"title": "Hi"}})
			if err != nil {
				t.Fatal(err)
			}

			req, ok := webhooktest.AssertReceived(t, good, ev.ID, wait)
			if !ok {
				return
			}
			if req.N != 1 || req.Method != http.MethodPost || req.URI != "/in?key=1" || req.Time.IsZero() {
				t.Errorf("recorded N=%d %s %s at %v", req.N, req.Method, req.URI, req.Time)
			}
			if req.EventID != ev.ID || req.EventType != "post.created" || req.Envelope.TenantID != "acme" || string(req.Envelope.Data) != `{"title":"Hi"}` {
				t.Errorf("parsed event %q %q %+v", req.EventID, req.EventType, req.Envelope)
			}
			if req.Header.Get(tt.header) == "" {
				t.Errorf("no %s header in %v", tt.header, req.Header)
			}
			webhooktest.AssertDelivered(t, d, ev.ID, ep.ID, wait)

			bad := wrong.WaitFor(t, 1, wait)[0]
			if bad.Verified || !errors.Is(bad.VerifyErr, verify.ErrNoMatch) {
				t.Errorf("with the wrong secret: Verified=%v, VerifyErr=%v; want false, ErrNoMatch", bad.Verified, bad.VerifyErr)
			}
			if bad.EventID != ev.ID {
				t.Errorf("an unverified request is recorded all the same: EventID %q", bad.EventID)
			}
		})
	}
}

// TestReceiverSecrets: without a secret every request is recorded as
// unverified, and can be checked afterwards with VerifyWith; a secret
// added later verifies later requests, the old one during a rotation's
// grace period included.
func TestReceiverSecrets(t *testing.T) {
	ctx := context.Background()
	rcv := webhooktest.NewReceiver(t)
	d := webhooktest.NewMemDispatcher(t, nil)
	ep, oldSecret, err := d.CreateEndpoint(ctx, webhook.EndpointParams{URL: rcv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	newSecret, err := d.RotateSecret(ctx, ep.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Publish(ctx, webhook.Event{Type: "post.created"}); err != nil {
		t.Fatal(err)
	}
	q := rcv.WaitFor(t, 1, wait)[0]
	if q.Verified || !errors.Is(q.VerifyErr, verify.ErrNoSecret) {
		t.Errorf("no secret: Verified=%v, VerifyErr=%v; want false, ErrNoSecret", q.Verified, q.VerifyErr)
	}
	for _, s := range []string{oldSecret, newSecret} {
		if err := q.VerifyWith(verify.Standard{Secrets: []string{s}}); err != nil {
			t.Errorf("VerifyWith a secret of the rotation: %v", err)
		}
	}

	rcv.AddSecret(oldSecret)
	ev, err := d.Publish(ctx, webhook.Event{Type: "post.created"})
	if err != nil {
		t.Fatal(err)
	}
	webhooktest.AssertReceived(t, rcv, ev.ID, wait)
}

// TestReceiverClock: a Dispatcher on a clock an hour behind signs
// timestamps the Receiver's default (wall) clock rejects as too old;
// WithClock makes it judge by the Dispatcher's clock.
func TestReceiverClock(t *testing.T) {
	ctx := context.Background()
	past := func() time.Time { return time.Now().Add(-time.Hour) }
	for _, signer := range []webhook.Signer{webhook.StandardSigner{}, webhook.StripeSigner{}} {
		const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		wall := webhooktest.NewReceiver(t, webhooktest.WithSigner(signer), webhooktest.WithSecrets(secret))
		same := webhooktest.NewReceiver(t, webhooktest.WithSigner(signer), webhooktest.WithSecrets(secret), webhooktest.WithClock(past))
		d := webhooktest.NewMemDispatcher(t, &webhook.Config{Signer: signer, Clock: past})
		for _, r := range []*webhooktest.Receiver{wall, same} {
			if _, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{URL: r.URL(), Secret: secret}); err != nil {
				t.Fatal(err)
			}
		}
		ev, err := d.Publish(ctx, webhook.Event{Type: "post.created"})
		if err != nil {
			t.Fatal(err)
		}
		if q := wall.WaitFor(t, 1, wait)[0]; !errors.Is(q.VerifyErr, verify.ErrTooOld) {
			t.Errorf("%T, wall clock: VerifyErr=%v, want ErrTooOld", signer, q.VerifyErr)
		}
		webhooktest.AssertReceived(t, same, ev.ID, wait)
	}
}

// TestWithVerifier: a verifier of the caller's own replaces the scheme.
func TestWithVerifier(t *testing.T) {
	rcv := webhooktest.NewReceiver(t, webhooktest.WithVerifier(verify.HMAC{Secrets: []string{"s3cret-s3cret-s3cret"}, Header: "Sig"}),
		webhooktest.WithSecrets("ignored"))
	d := webhooktest.NewMemDispatcher(t, &webhook.Config{Signer: webhook.HMACSigner{Header: "Sig"}})
	if _, _, err := d.CreateEndpoint(context.Background(), webhook.EndpointParams{URL: rcv.URL(), Secret: "s3cret-s3cret-s3cret"}); err != nil {
		t.Fatal(err)
	}
	ev, err := d.Publish(context.Background(), webhook.Event{Type: "post.created"})
	if err != nil {
		t.Fatal(err)
	}
	webhooktest.AssertReceived(t, rcv, ev.ID, wait)
}

// customSigner is a Signer WithSigner does not know.
type customSigner struct{}

func (customSigner) Sign(http.Header, webhook.Message) error { return nil }

func TestWithSignerRejectsUnknownSigner(t *testing.T) {
	f := newFakeT(t)
	if f.run(func() { webhooktest.NewReceiver(f, webhooktest.WithSigner(customSigner{})) }) {
		t.Fatal("NewReceiver returned")
	}
	if !strings.Contains(f.failures(), "WithVerifier") {
		t.Errorf("failure does not point to WithVerifier: %s", f.failures())
	}
}

// send posts body to the receiver and returns the response.
func send(t *testing.T, rcv *webhooktest.Receiver, contentType, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, rcv.URL()+"/x", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("webhook-id", "hdr-id")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestResponders(t *testing.T) {
	t.Run("default 204", func(t *testing.T) {
		rcv := webhooktest.NewReceiver(t)
		if got := send(t, rcv, "application/json", `{}`).StatusCode; got != http.StatusNoContent {
			t.Errorf("status %d", got)
		}
	})
	t.Run("WithStatus and SetStatus", func(t *testing.T) {
		rcv := webhooktest.NewReceiver(t, webhooktest.WithStatus(http.StatusGone))
		if got := send(t, rcv, "application/json", `{}`).StatusCode; got != http.StatusGone {
			t.Errorf("status %d", got)
		}
		rcv.SetStatus(http.StatusAccepted)
		if got := send(t, rcv, "application/json", `{}`).StatusCode; got != http.StatusAccepted {
			t.Errorf("after SetStatus: status %d", got)
		}
	})
	t.Run("RetryAfter", func(t *testing.T) {
		rcv := webhooktest.NewReceiver(t, webhooktest.WithResponder(webhooktest.RetryAfter(http.StatusTooManyRequests, 1500*time.Millisecond)))
		resp := send(t, rcv, "application/json", `{}`)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" {
			t.Errorf("status %d, Retry-After %q; want 429, 2", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	})
	t.Run("Sequence", func(t *testing.T) {
		rcv := webhooktest.NewReceiver(t, webhooktest.WithResponder(webhooktest.Sequence(
			webhooktest.Status(500), webhooktest.Status(503), webhooktest.Status(200))))
		var got []int
		for i := 0; i < 4; i++ {
			got = append(got, send(t, rcv, "application/json", `{}`).StatusCode)
		}
		if want := []int{500, 503, 200, 200}; !equal(got, want) {
			t.Errorf("statuses %v, want %v", got, want)
		}
		rcv.Reset()
		if got := send(t, rcv, "application/json", `{}`).StatusCode; got != 500 {
			t.Errorf("after Reset the sequence starts over: got %d", got)
		}
		empty := webhooktest.NewReceiver(t, webhooktest.WithResponder(webhooktest.Sequence()))
		if got := send(t, empty, "application/json", `{}`).StatusCode; got != http.StatusNoContent {
			t.Errorf("an empty Sequence answers %d", got)
		}
	})
	t.Run("Delay", func(t *testing.T) {
		rcv := webhooktest.NewReceiver(t, webhooktest.WithResponder(webhooktest.Delay(100*time.Millisecond, webhooktest.Status(201))))
		start := time.Now()
		resp := send(t, rcv, "application/json", `{}`)
		if el := time.Since(start); el < 100*time.Millisecond || resp.StatusCode != 201 {
			t.Errorf("answered %d after %s; want 201 after at least 100ms", resp.StatusCode, el)
		}
	})
	t.Run("Delay ends when the sender gives up", func(t *testing.T) {
		rcv := webhooktest.NewReceiver(t, webhooktest.WithResponder(webhooktest.Delay(time.Hour, nil)))
		d := webhooktest.NewMemDispatcher(t, &webhook.Config{RequestTimeout: 50 * time.Millisecond, Lease: time.Minute, Retry: webhook.FixedSchedule()})
		ep, _, err := d.CreateEndpoint(context.Background(), webhook.EndpointParams{URL: rcv.URL()})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := d.Publish(context.Background(), webhook.Event{Type: "post.created"})
		if err != nil {
			t.Fatal(err)
		}
		as := webhooktest.WaitForAttempts(t, d, ev.ID, ep.ID, 1, wait)
		if as[0].Success || as[0].StatusCode != 0 {
			t.Errorf("a timed-out attempt: %+v", as[0])
		}
		// The cleanup closing the server returns: the handler saw the
		// request's context end.
	})
	t.Run("the responder reads the body again", func(t *testing.T) {
		rcv := webhooktest.NewReceiver(t, webhooktest.WithResponder(func(w http.ResponseWriter, r *http.Request, n int) {
			b := new(strings.Builder)
			_, _ = io.Copy(b, r.Body)
			if b.String() != `{"a":1}` || n != 1 {
				w.WriteHeader(http.StatusExpectationFailed)
			}
		}))
		if got := send(t, rcv, "application/json", `{"a":1}`).StatusCode; got != http.StatusOK {
			t.Errorf("status %d", got)
		}
	})
}

// TestRecordedRequests: what a request records, form bodies included,
// and that Requests hands out copies.
func TestRecordedRequests(t *testing.T) {
	rcv := webhooktest.NewReceiver(t)
	changed := rcv.Changed()
	payload := url.Values{"payload": {`{"id":"evt_9","type":"vote.cast"}`}}.Encode()
	send(t, rcv, webhook.ContentTypeForm, payload)
	select {
	case <-changed:
	default:
		t.Error("Changed was not closed by the request")
	}
	send(t, rcv, "text/plain", "not json")

	reqs := rcv.WaitFor(t, 2, wait)
	if rcv.Len() != 2 || len(reqs) != 2 {
		t.Fatalf("Len %d, %d requests", rcv.Len(), len(reqs))
	}
	form := reqs[0]
	if form.N != 1 || form.Method != http.MethodPut || form.URI != "/x" || string(form.Body) != payload ||
		form.EventID != "evt_9" || form.EventType != "vote.cast" || form.WebhookID() != "hdr-id" {
		t.Errorf("form request recorded as %+v", form)
	}
	if plain := reqs[1]; plain.N != 2 || plain.EventID != "" || plain.EventType != "" || plain.Verified {
		t.Errorf("non-JSON request recorded as %+v", plain)
	}

	reqs[0].Body[0] = 'X'
	reqs[0].Header.Set("webhook-id", "changed")
	if again := rcv.Requests()[0]; string(again.Body) != payload || again.WebhookID() != "hdr-id" {
		t.Error("Requests does not return copies")
	}

	rcv.Reset()
	if rcv.Len() != 0 || len(rcv.Requests()) != 0 {
		t.Error("Reset kept requests")
	}
}

func TestWaitForFailsAtTheDeadline(t *testing.T) {
	rcv := webhooktest.NewReceiver(t)
	f := newFakeT(t)
	start := time.Now()
	if f.run(func() { rcv.WaitFor(f, 1, 50*time.Millisecond) }) {
		t.Fatal("WaitFor returned without a request")
	}
	if el := time.Since(start); el < 50*time.Millisecond || el > 5*time.Second {
		t.Errorf("WaitFor gave up after %s", el)
	}
	if !strings.Contains(f.failures(), "got 0 requests within 50ms, want at least 1") {
		t.Errorf("failure: %s", f.failures())
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
