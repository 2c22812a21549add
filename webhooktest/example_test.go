package webhooktest_test

import (
	"context"
	"fmt"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/webhooktest"
)

// A test publishes an event and checks the customer's endpoint got it,
// signed with the endpoint's secret, and that the delivery log says so.
func Example() {
	t := &fakeT{} // in a test: the *testing.T it is given
	defer t.finishExample()
	ctx := context.Background()

	rcv := webhooktest.NewReceiver(t)
	d := webhooktest.NewMemDispatcher(t, nil)
	ep, secret, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: rcv.URL() + "/hook"})
	if err != nil {
		t.Fatalf("%v", err)
	}
	rcv.AddSecret(secret)

	ev, err := d.Publish(ctx, webhook.Event{ID: "evt_1", Type: "order.created", TenantID: "acme", Data: map[string]int{"total": 42}})
	if err != nil {
		t.Fatalf("%v", err)
	}

	if dl := webhooktest.AssertDelivered(t, d, ev.ID, ep.ID, 5*time.Second); dl != nil {
		fmt.Println("delivery:", dl.State, "after", dl.Attempts, "attempt")
	}
	if req, ok := webhooktest.AssertReceived(t, rcv, ev.ID, 5*time.Second); ok {
		fmt.Println("received:", req.Method, req.URI, req.EventType, "verified:", req.Verified)
	}
	// Output:
	// delivery: succeeded after 1 attempt
	// received: POST /hook order.created verified: true
}

// A receiver scripted to fail twice, the second time asking the sender to
// wait, and then to succeed: the attempt log shows each answer.
func ExampleSequence() {
	t := &fakeT{} // in a test: the *testing.T it is given
	defer t.finishExample()
	ctx := context.Background()

	rcv := webhooktest.NewReceiver(t, webhooktest.WithResponder(webhooktest.Sequence(
		webhooktest.Status(500),
		webhooktest.RetryAfter(429, 0),
		webhooktest.Status(204),
	)))
	d := webhooktest.NewMemDispatcher(t, &webhook.Config{
		Retry: webhook.FixedSchedule(time.Millisecond, time.Millisecond), // three attempts, 1 ms apart
	})
	ep, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{URL: rcv.URL()})
	if err != nil {
		t.Fatalf("%v", err)
	}
	ev, err := d.Publish(ctx, webhook.Event{Type: "order.created"})
	if err != nil {
		t.Fatalf("%v", err)
	}

	webhooktest.AssertDelivered(t, d, ev.ID, ep.ID, 5*time.Second)
	as := webhooktest.Attempts(t, d, ev.ID, ep.ID)
	fmt.Println(webhooktest.StatusCodes(as))
	fmt.Println(as[0].Error, "/", as[1].Error)
	// Output:
	// [500 429 204]
	// HTTP 500 / HTTP 429
}

// A Dispatcher signing ProductLift's way (hex HMAC-SHA256 in "Signature"),
// and a receiver that checks that scheme with the secret the endpoint was
// created with; a receiver holding another secret records the request as
// unverified.
func ExampleWithSigner() {
	t := &fakeT{} // in a test: the *testing.T it is given
	defer t.finishExample()
	ctx := context.Background()
	signer := webhook.HMACSigner{Header: "Signature"}
	const secret = "productlift-portal-secret"

	good := webhooktest.NewReceiver(t, webhooktest.WithSigner(signer), webhooktest.WithSecrets(secret))
	bad := webhooktest.NewReceiver(t, webhooktest.WithSigner(signer), webhooktest.WithSecrets("some-other-secret"))
	d := webhooktest.NewMemDispatcher(t, &webhook.Config{Signer: signer})
	for _, rcv := range []*webhooktest.Receiver{good, bad} {
		if _, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{URL: rcv.URL(), Secret: secret}); err != nil {
			t.Fatalf("%v", err)
		}
	}
	if _, err := d.Publish(ctx, webhook.Event{Type: "post.created"}); err != nil {
		t.Fatalf("%v", err)
	}

	fmt.Println("good:", good.WaitFor(t, 1, 5*time.Second)[0].Verified)
	req := bad.WaitFor(t, 1, 5*time.Second)[0]
	fmt.Println("bad:", req.Verified, req.VerifyErr)
	// Output:
	// good: true
	// bad: false webhook: no matching signature
}
