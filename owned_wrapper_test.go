package webhook_test

import (
	"context"
	"testing"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
)

// scratchStore is an application's Store that wraps memstore and hands it
// each body through one scratch buffer it reuses, as storetest allows
// ("changing the event ... passed to Enqueue changes nothing stored"). It
// has no EnqueueMatching, so Publish lists endpoints and calls Enqueue.
type scratchStore struct {
	webhook.Store
	buf []byte
}

func (s *scratchStore) Enqueue(ctx context.Context, ev *webhook.StoredEvent, ds []*webhook.Delivery) error {
	s.buf = append(s.buf[:0], ev.Body...)
	e := *ev
	e.Body = s.buf
	return s.Store.Enqueue(ctx, &e, ds)
}

// TestOwnedBodyThroughWrapper: Publish marks the context it hands the
// Store with the body it made (internal/owned), and the mark reaches
// memstore through any Store of the application that wraps it. memstore
// keeps a body uncopied only if it is the very slice marked, so a wrapper
// that passes its own reused buffer gets it copied: the first event's
// stored body (the one every retry sends and signs) stays the first's.
// (When the mark named no slice, the first event's body became the
// second's.)
func TestOwnedBodyThroughWrapper(t *testing.T) {
	ctx := context.Background()
	s := &scratchStore{Store: memstore.New()}
	d, err := webhook.NewDispatcher(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{URL: "https://example.com/hook", TenantID: "t"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Publish(ctx, webhook.Event{ID: "first", Type: "post.created", TenantID: "t", Data: map[string]string{"n": "one"}}); err != nil {
		t.Fatal(err)
	}
	before, err := s.GetEvent(ctx, "first")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Publish(ctx, webhook.Event{ID: "other", Type: "post.created", TenantID: "t", Data: map[string]string{"n": "two"}}); err != nil {
		t.Fatal(err)
	}
	after, err := s.GetEvent(ctx, "first")
	if err != nil {
		t.Fatal(err)
	}
	if string(after.Body) != string(before.Body) {
		t.Fatalf("event first's stored body changed when another event was published:\nbefore %s\nafter  %s", before.Body, after.Body)
	}
}
