package interop

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
)

// recorded is one request exactly as a receiver got it.
type recorded struct {
	Method string
	Header http.Header
	Body   []byte
}

// sender is a Dispatcher on memstore whose endpoints point at a loopback
// server that records every request and answers 204.
type sender struct {
	d    *webhook.Dispatcher
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []recorded
	got  chan struct{}
}

// setup starts a sender with cfg (AllowPrivateNetworks and a short poll are
// forced) and stops it when the test ends.
func setup(t *testing.T, cfg webhook.Config) *sender {
	t.Helper()
	s := &sender{got: make(chan struct{}, 16)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body bytes.Buffer
		_, _ = body.ReadFrom(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, recorded{Method: r.Method, Header: r.Header.Clone(), Body: body.Bytes()})
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		s.got <- struct{}{}
	}))
	t.Cleanup(s.srv.Close)
	cfg.AllowPrivateNetworks = true
	cfg.PollInterval = 10 * time.Millisecond
	d, err := webhook.NewDispatcher(memstore.New(), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	s.d = d
	return s
}

// endpoint creates an endpoint at the recording server (path and query
// appended to its URL) and returns it with its secret.
func (s *sender) endpoint(t *testing.T, p webhook.EndpointParams, pathAndQuery string) (*webhook.Endpoint, string) {
	t.Helper()
	p.URL = s.srv.URL + pathAndQuery
	ep, secret, err := s.d.CreateEndpoint(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return ep, secret
}

// publish publishes ev and returns the request it caused.
func (s *sender) publish(t *testing.T, ev webhook.Event) recorded {
	t.Helper()
	if _, err := s.d.Publish(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.got:
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery within 10 s")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reqs[len(s.reqs)-1]
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
