package interop

import (
	"context"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/webhooktest"
)

// recorded is one request exactly as the receiver got it.
type recorded = webhooktest.Request

// sender is a Dispatcher on memstore whose endpoints point at a loopback
// receiver that records every request and answers 204.
type sender struct {
	d   *webhook.Dispatcher
	rcv *webhooktest.Receiver
}

// setup starts a sender with cfg (webhooktest allows loopback and polls
// every 10 ms) and stops it when the test ends.
func setup(t *testing.T, cfg webhook.Config) *sender {
	t.Helper()
	rcv := webhooktest.NewReceiver(t)
	return &sender{rcv: rcv, d: webhooktest.NewMemDispatcher(t, &cfg)}
}

// endpoint creates an endpoint at the receiver (path and query appended
// to its URL) and returns it with its secret.
func (s *sender) endpoint(t *testing.T, p webhook.EndpointParams, pathAndQuery string) (*webhook.Endpoint, string) {
	t.Helper()
	p.URL = s.rcv.URL() + pathAndQuery
	ep, secret, err := s.d.CreateEndpoint(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return ep, secret
}

// publish publishes ev and returns the request it caused.
func (s *sender) publish(t *testing.T, ev webhook.Event) recorded {
	t.Helper()
	n := s.rcv.Len()
	if _, err := s.d.Publish(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	return s.rcv.WaitFor(t, n+1, 10*time.Second)[n]
}

// event is the event the tests publish: its data has characters JSON
// encoders like to escape, so any re-encoding on the way would show.
func event() webhook.Event {
	return webhook.Event{
		Type: "post.created",
		Data: map[string]any{
			"title": "Dark mode <b>&</b> \"quotes\" ünïcödé 🚀",
			"votes": 42,
		},
	}
}

// deliver publishes one event through a fresh sender signing with signer
// and returns the request as received, with the endpoint's secret.
func deliver(t *testing.T, signer webhook.Signer, p webhook.EndpointParams) (recorded, string) {
	t.Helper()
	s := setup(t, webhook.Config{Signer: signer})
	_, secret := s.endpoint(t, p, "/hook")
	return s.publish(t, event()), secret
}
