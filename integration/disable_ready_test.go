package integration

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/webhooktest"
)

// TestAutoDisableGivesBackClaimsAhead: a delivery published while the
// transaction that disables its endpoint is still open (after its
// UPDATE of the endpoint's pending deliveries, before its commit) is not
// ended by that disable, and a Claim that runs meanwhile still reads the
// endpoint as enabled and leases it. When the Dispatcher that disabled the
// endpoint holds that claim ahead, it drops it once the disable is
// recorded: the claim must be given back (or otherwise ended), not left
// leased and unsent until its lease runs out (2 minutes by default).
//
// The interleaving is forced with a lock: a transaction holding SHARE on
// the attempts table stops the disabling CompleteBatch at its INSERT of
// the attempts, which follows the disable.
func TestAutoDisableGivesBackClaimsAhead(t *testing.T) {
	pgURL(t)
	ctx := context.Background()
	db, s := pgListening(t)
	d := webhooktest.StartDispatcher(t, s, &webhook.Config{
		Workers: 4, MaxInFlightPerEndpoint: 1, PollInterval: 20 * time.Millisecond, DisableAfter: 1,
	})
	rcv := newReceiver(t, 0)
	rcv.status.Store(http.StatusInternalServerError)
	ep, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: rcv.URL, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}

	lock, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := lock.ExecContext(ctx, `LOCK TABLE outhook_attempts IN SHARE MODE`); err != nil {
		t.Fatal(err)
	}

	// The first delivery fails; its recording disables the endpoint and
	// waits, uncommitted, at the INSERT of its attempt.
	if _, err := d.Publish(ctx, webhook.Event{ID: "evt-first", Type: "post.created", TenantID: "acme", Data: 1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the disabling CompleteBatch waits for the attempts table", func() bool {
		var n int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'outhook_attempts'::regclass`).Scan(&n)
		return err == nil && n > 0
	})
	var disabledUncommitted int
	if err := db.QueryRowContext(ctx, `SELECT disabled FROM outhook_endpoints WHERE id = $1`, ep.ID).Scan(&disabledUncommitted); err != nil {
		t.Fatal(err)
	}
	if disabledUncommitted != 0 {
		t.Fatal("the disable committed before the lock let it: the interleaving was not forced")
	}

	// Published now, the second delivery is not seen by the disable's
	// UPDATE, and the Dispatcher claims it ahead (the first failure holds
	// the endpoint's one place until it is recorded).
	if _, err := d.Publish(ctx, webhook.Event{ID: "evt-second", Type: "post.created", TenantID: "acme", Data: 2}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the second delivery claimed ahead", func() bool {
		var leased bool
		err := db.QueryRowContext(ctx, `SELECT claim_token IS NOT NULL FROM outhook_deliveries WHERE event_id = 'evt-second'`).Scan(&leased)
		return err == nil && leased
	})
	// The claim may still be on its way back from the Store (it reads the
	// endpoints in a second round trip) or already wait in the Dispatcher:
	// either way the disable must give it back (claimBatch, dropReady).
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}

	// The disable commits; the second delivery must end (failed for the
	// disable) well before its lease would.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var state, lastError string
		var leasedUntil *int64
		if err := db.QueryRowContext(ctx, `SELECT state, last_error, leased_until FROM outhook_deliveries WHERE event_id = 'evt-second'`).
			Scan(&state, &lastError, &leasedUntil); err != nil {
			t.Fatal(err)
		}
		if state != string(webhook.StatePending) {
			if state != string(webhook.StateFailed) || lastError != webhook.ReasonEndpointDisabled {
				t.Fatalf("second delivery: state %s, last error %q; want failed, %q", state, lastError, webhook.ReasonEndpointDisabled)
			}
			break
		}
		if time.Now().After(deadline) {
			lease := "none"
			if leasedUntil != nil {
				lease = time.Until(time.Unix(0, *leasedUntil)).Round(time.Second).String() + " from now"
			}
			t.Fatalf("10 s after the disable committed, the second delivery is still pending, its lease ending %s", lease)
		}
		time.Sleep(20 * time.Millisecond)
	}
	got, err := d.GetEndpoint(ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Disabled || got.ConsecutiveFailures != 1 {
		t.Fatalf("endpoint: Disabled %v, ConsecutiveFailures %d; want true, 1", got.Disabled, got.ConsecutiveFailures)
	}
	// Nothing sent after the disable: the first attempt holds the
	// endpoint's one place until it is recorded, and the second delivery's
	// claim is given back, not sent.
	if _, all := rcv.total(); all != 1 {
		rcv.mu.Lock()
		got := fmt.Sprint(rcv.got, rcv.arrivals)
		rcv.mu.Unlock()
		t.Fatalf("receiver got %d requests, want 1: %s", all, got)
	}
}
