package integration

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
)

// countHandler counts the records whose message is msg.
type countHandler struct {
	msg string
	n   *atomic.Int64
}

func (h countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.n.Add(1)
	}
	return nil
}
func (h countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countHandler) WithGroup(string) slog.Handler      { return h }

// A Claim that keeps failing is tried again each PollInterval, not at
// once: when the fast claim's endpoint read fails for good (here the
// secrets table is gone), it gives the leases back, and that Release's
// NOTIFY wakes the claim loop; were the wake-up obeyed, the loop would
// claim the same rows again and fail again, round trip after round trip.
func TestFailingClaimIsNotRetriedAtOnce(t *testing.T) {
	pgURL(t)
	ctx := context.Background()
	db, s := pgListening(t)
	var fails atomic.Int64
	d, err := webhook.NewDispatcher(s, &webhook.Config{
		PollInterval: time.Second, AllowPrivateNetworks: true,
		Logger: slog.New(countHandler{msg: "webhook: claim failed", n: &fails}),
	})
	if err != nil {
		t.Fatal(err)
	}
	rcv := newReceiver(t, 0)
	if _, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: rcv.URL}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Publish(ctx, webhook.Event{ID: "evt-1", Type: "post.created", TenantID: "acme", Data: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `ALTER TABLE outhook_secrets RENAME TO hidden_secrets`); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_ = d.Shutdown(sctx)
	t.Logf("%d failed claims in 3 s with PollInterval 1 s", fails.Load())
	if n := fails.Load(); n > 10 {
		t.Fatalf("%d failed claims in 3 s with PollInterval 1 s: the claim loop spins on a failure that lasts", n)
	}
}
