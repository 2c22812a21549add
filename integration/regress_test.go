package integration

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
	"github.com/outhook/webhook/webhooktest"
)

// TestPublishTxDuplicateInSameTx publishes one event ID twice inside one
// transaction: the second call is a safe retry (nil error), the event goes
// out once after commit, and the same ID for another tenant is reported as
// a collision without spoiling the caller's transaction.
func TestPublishTxDuplicateInSameTx(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			db := b.open(t)
			s := newStore(t, db, b.dialect, &sqlstore.Options{WaitForNotification: pgxWait, PollInterval: 20 * time.Millisecond})
			if _, err := db.Exec(`CREATE TABLE orders (id TEXT PRIMARY KEY)`); err != nil {
				t.Fatal(err)
			}
			rcv := newReceiver(t, 0)
			d := webhooktest.StartDispatcher(t, s, &webhook.Config{PollInterval: 50 * time.Millisecond})
			if _, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "shop", URL: rcv.URL}); err != nil {
				t.Fatal(err)
			}
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			ev := webhook.Event{ID: "evt-dup", Type: "order.created", TenantID: "shop", Data: 1}
			first, err := d.PublishTx(ctx, tx, ev)
			if err != nil {
				t.Fatal(err)
			}
			again, err := d.PublishTx(ctx, tx, ev)
			if err != nil {
				t.Errorf("second PublishTx of the same event in the same tx: %v, want nil", err)
			} else if !again.CreatedAt.Equal(first.CreatedAt) {
				t.Errorf("second PublishTx: CreatedAt %v, want the stored %v", again.CreatedAt, first.CreatedAt)
			}
			other := ev
			other.TenantID = "other-shop"
			if _, err := d.PublishTx(ctx, tx, other); !errors.Is(err, webhook.ErrDuplicateEvent) {
				t.Errorf("same ID for another tenant in the same tx: %v, want ErrDuplicateEvent", err)
			}
			// The caller's transaction is still usable and commits.
			if _, err := tx.Exec(rebind(b, `INSERT INTO orders (id) VALUES (?)`), "o1"); err != nil {
				t.Fatalf("caller's tx after the duplicates: %v", err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := db.QueryRow(`SELECT COUNT(*) FROM orders`).Scan(&n); err != nil || n != 1 {
				t.Fatalf("orders after commit: %d, %v", n, err)
			}
			waitFor(t, 10*time.Second, "event delivered", func() bool { return rcv.count(ev.ID) == 1 })
			time.Sleep(300 * time.Millisecond)
			if n := rcv.count(ev.ID); n != 1 {
				t.Fatalf("event sent %d times, want 1", n)
			}
			stored, err := s.GetEvent(ctx, ev.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.TenantID != "shop" {
				t.Fatalf("stored event of tenant %q, want shop", stored.TenantID)
			}
		})
	}
}

// TestEnqueueDuplicateReportsExisting: Enqueue and EnqueueTx report a
// duplicate ID as a *webhook.DuplicateEventError holding the stored event.
func TestEnqueueDuplicateReportsExisting(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			sd := newSeed(t, b, nil)
			d := sd.enqueue(sd.ep, t0)
			dup := &webhook.StoredEvent{ID: d.EventID, Type: "other.type", TenantID: "x", CreatedAt: t0.Add(time.Hour), Body: []byte(`{}`)}
			check := func(what string, err error) {
				t.Helper()
				var de *webhook.DuplicateEventError
				if !errors.As(err, &de) || de.Existing == nil {
					t.Fatalf("%s: %v, want a *webhook.DuplicateEventError", what, err)
				}
				if !errors.Is(err, webhook.ErrDuplicateEvent) {
					t.Fatalf("%s: %v does not wrap ErrDuplicateEvent", what, err)
				}
				got := de.Existing
				if got.ID != d.EventID || got.Type != "post.created" || got.TenantID != "tenant" || !got.CreatedAt.Equal(t0) {
					t.Fatalf("%s: existing %+v, want the stored event", what, got)
				}
			}
			check("Enqueue", sd.s.Enqueue(ctx, dup, nil))
			tx, err := sd.db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			check("EnqueueTx", sd.s.EnqueueTx(ctx, tx, dup, nil))
		})
	}
}

// endedDeliveries fills s with per ended deliveries for each of n
// endpoints, interleaved so that Prune's batches (in updated_at order)
// span many endpoints.
func endedDeliveries(t *testing.T, sd *seed, n, per int) []*webhook.Endpoint {
	t.Helper()
	ctx := context.Background()
	eps := []*webhook.Endpoint{sd.ep}
	for len(eps) < n {
		eps = append(eps, sd.endpoint("whsec_dGhlLXNlY3JldC1vZi1lbmRwb2ludC0x"))
	}
	for j := 0; j < per; j++ {
		for _, ep := range eps {
			sd.enqueue(ep, t0)
		}
	}
	for {
		cs, err := sd.s.Claim(ctx, webhook.ClaimParams{Now: t0, Lease: time.Minute, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 0 {
			return eps
		}
		for i, c := range cs {
			if _, _, err := sd.s.Complete(ctx, webhook.Completion{DeliveryID: c.Delivery.ID, Token: c.Token,
				Outcome: webhook.OutcomeSuccess, Now: t0.Add(time.Duration(i) * time.Millisecond),
				Attempt: &webhook.Attempt{StartedAt: t0, StatusCode: 200}}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestPruneVsDeleteEndpoint runs Prune while every endpoint is deleted
// concurrently: both take the deliveries' locks before the attempts', so
// neither fails (PostgreSQL answered 40P01, deadlock detected, when
// DeleteEndpoint deleted attempts first) and nothing is left behind.
func TestPruneVsDeleteEndpoint(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			sd := newSeed(t, b, &sqlstore.Options{PruneBatch: 25})
			if isPG(b) {
				sd.db.SetMaxOpenConns(30)
			}
			rounds := 1 // SQLite runs one writer at a time: one round shows it works
			if isPG(b) {
				rounds = 3
			}
			for round := 0; round < rounds; round++ {
				eps := endedDeliveries(t, sd, 30, 20)
				var wg sync.WaitGroup
				errs := make(chan error, len(eps)+1)
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := sd.s.Prune(ctx, t0.Add(time.Hour)); err != nil {
						errs <- fmt.Errorf("prune: %w", err)
					}
				}()
				for _, ep := range eps {
					wg.Add(1)
					go func(id string) {
						defer wg.Done()
						if err := sd.s.DeleteEndpoint(ctx, id); err != nil {
							errs <- fmt.Errorf("delete endpoint %s: %w", id, err)
						}
					}(ep.ID)
				}
				wg.Wait()
				close(errs)
				var msgs []string
				for err := range errs {
					msgs = append(msgs, err.Error())
				}
				if len(msgs) > 0 {
					t.Fatalf("round %d: %d errors, first: %s", round, len(msgs), strings.Join(msgs[:min(3, len(msgs))], "; "))
				}
				for _, tbl := range []string{"deliveries", "attempts"} {
					var n int
					if err := sd.db.QueryRow(`SELECT COUNT(*) FROM outhook_` + tbl).Scan(&n); err != nil {
						t.Fatal(err)
					}
					if n != 0 {
						t.Fatalf("round %d: %d rows left in %s", round, n, tbl)
					}
				}
				sd.ep = sd.endpoint("whsec_dGhlLXNlY3JldC1vZi1lbmRwb2ludC0x")
			}
		})
	}
}

// TestPruneBatchThenDeleteEndpoint forces the interleaving that
// deadlocked: a Prune batch holds an ended delivery's row while
// DeleteEndpoint of its endpoint starts, then deletes the attempts.
// DeleteEndpoint must wait for the batch instead of taking the attempts
// first (PostgreSQL only: SQLite transactions never interleave).
func TestPruneBatchThenDeleteEndpoint(t *testing.T) {
	b := backends()[0]
	ctx := context.Background()
	sd := newSeed(t, b, nil)
	d := sd.enqueue(sd.ep, t0)
	sd.finish(d, t0, webhook.OutcomeSuccess, "ok")
	tx, err := sd.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	// What Prune's batch does first: lock the ended rows.
	var id string
	if err := tx.QueryRow(`SELECT id FROM outhook_deliveries WHERE state <> 'pending' ORDER BY updated_at LIMIT 1 FOR UPDATE SKIP LOCKED`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sd.s.DeleteEndpoint(ctx, sd.ep.ID) }()
	time.Sleep(500 * time.Millisecond) // DeleteEndpoint is waiting for the row
	_, err = tx.Exec(`DELETE FROM outhook_attempts WHERE delivery_id = $1`, id)
	if err == nil {
		_, err = tx.Exec(`DELETE FROM outhook_deliveries WHERE state <> 'pending' AND id = $1`, id)
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		t.Errorf("prune batch: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("DeleteEndpoint: %v", err)
	}
}

// syncBuffer is an io.Writer for a slog handler shared by goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestClaimSkipsUnreadableSecret: an endpoint whose secret does not
// decrypt (a key this instance does not hold yet, in the middle of a
// rolling key rotation; a corrupt row) no longer fails every Claim. Its
// deliveries are left out, logged, and due again when the lease ends;
// every other endpoint's deliveries are claimed.
func TestClaimSkipsUnreadableSecret(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			db := b.open(t)
			k1 := sqlstore.EncryptionKey{ID: "k1", Key: []byte(strings.Repeat("1", 32))}
			k2 := sqlstore.EncryptionKey{ID: "k2", Key: []byte(strings.Repeat("2", 32))}
			logs := &syncBuffer{}
			logger := slog.New(slog.NewTextHandler(logs, nil))
			// Instance A runs with the new key first already; instance B
			// has not been redeployed and knows only the old key.
			a := newStore(t, db, b.dialect, &sqlstore.Options{EncryptionKeys: []sqlstore.EncryptionKey{k2, k1}, Logger: logger})
			bb, err := sqlstore.New(db, b.dialect, &sqlstore.Options{EncryptionKeys: []sqlstore.EncryptionKey{k1}, Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			sdA := &seed{t: t, s: a, db: db}
			sdB := &seed{t: t, s: bb, db: db}
			newer := sdA.endpoint("whsec_bmV3ZXItc2VjcmV0LW9mLWVuZHBvaW50LTI=") // under k2
			healthy := sdB.endpoint("whsec_dGhlLXNlY3JldC1vZi1lbmRwb2ludC0x")   // under k1
			dn := sdB.enqueue(newer, t0)                                        // first in due order
			dh := sdB.enqueue(healthy, t0.Add(time.Second))

			now, lease := t0.Add(time.Minute), time.Minute
			cs, err := bb.Claim(ctx, webhook.ClaimParams{Now: now, Lease: lease, Limit: 10})
			if err != nil {
				t.Fatalf("Claim on the instance without the new key: %v", err)
			}
			if len(cs) != 1 || cs[0].Delivery.ID != dh.ID {
				t.Fatalf("Claim returned %d claims, want only the healthy endpoint's delivery", len(cs))
			}
			if len(cs[0].Secrets) != 1 || cs[0].Secrets[0].Value != "whsec_dGhlLXNlY3JldC1vZi1lbmRwb2ludC0x" {
				t.Fatalf("healthy claim's secrets: %d", len(cs[0].Secrets))
			}
			if _, _, err := bb.Complete(ctx, webhook.Completion{DeliveryID: dh.ID, Token: cs[0].Token, Outcome: webhook.OutcomeSuccess,
				Now: now, Attempt: &webhook.Attempt{StartedAt: now, StatusCode: 200}}); err != nil {
				t.Fatal(err)
			}
			got, err := bb.GetDelivery(ctx, dn.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != webhook.StatePending || got.Attempts != 0 || !strings.Contains(got.LastError, "secret") {
				t.Fatalf("left-out delivery: state %s, attempts %d, last error %q; want pending, 0, naming the secret", got.State, got.Attempts, got.LastError)
			}
			if out := logs.String(); !strings.Contains(out, newer.ID) || !strings.Contains(out, "level=ERROR") {
				t.Fatalf("nothing logged about endpoint %s: %q", newer.ID, out)
			}
			// Not handed out again before the lease ends, by either instance.
			if cs, err := a.Claim(ctx, webhook.ClaimParams{Now: now.Add(lease / 2), Lease: lease, Limit: 10}); err != nil || len(cs) != 0 {
				t.Fatalf("Claim within the lease: %d claims, %v; want none", len(cs), err)
			}
			// After it, the instance holding the key sends it.
			cs, err = a.Claim(ctx, webhook.ClaimParams{Now: now.Add(lease), Lease: lease, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) != 1 || cs[0].Delivery.ID != dn.ID || len(cs[0].Secrets) != 1 || cs[0].Secrets[0].Value != "whsec_bmV3ZXItc2VjcmV0LW9mLWVuZHBvaW50LTI=" {
				t.Fatalf("after the lease, the instance with the key claimed %d, want the left-out delivery with its secret", len(cs))
			}
			if _, _, err := a.Complete(ctx, webhook.Completion{DeliveryID: dn.ID, Token: cs[0].Token, Outcome: webhook.OutcomeSuccess,
				Now: now.Add(lease), Attempt: &webhook.Attempt{StartedAt: now.Add(lease), StatusCode: 200}}); err != nil {
				t.Fatal(err)
			}

			// Corrupt ciphertext: even the instance holding every key goes
			// on claiming other endpoints' deliveries.
			if _, err := db.Exec(rebind(b, `UPDATE outhook_secrets SET value = 'AAAA' || value WHERE endpoint_id = ?`), newer.ID); err != nil {
				t.Fatal(err)
			}
			later := now.Add(10 * lease)
			dn2 := sdA.enqueue(newer, later)
			dh2 := sdA.enqueue(healthy, later.Add(time.Second))
			cs, err = a.Claim(ctx, webhook.ClaimParams{Now: later.Add(time.Minute), Lease: lease, Limit: 10})
			if err != nil {
				t.Fatalf("Claim with a corrupt secret in the table: %v", err)
			}
			if len(cs) != 1 || cs[0].Delivery.ID != dh2.ID {
				t.Fatalf("Claim returned %d claims, want only the healthy endpoint's delivery", len(cs))
			}
			if got, err := a.GetDelivery(ctx, dn2.ID); err != nil || got.State != webhook.StatePending {
				t.Fatalf("delivery of the corrupt endpoint: %+v, %v; want pending", got, err)
			}
		})
	}
}

// TestRequeueWaitsForDisable: Requeue locks the endpoint's row before it
// reads the disabled flag, so a DisableEndpoint in progress is waited for
// and no delivery of the now disabled endpoint is queued (PostgreSQL only:
// SQLite transactions never interleave). The disable is done by hand, as
// DisableEndpoint does it, to hold it open while Requeue starts.
func TestRequeueWaitsForDisable(t *testing.T) {
	b := backends()[0]
	for _, byDelivery := range []bool{false, true} {
		t.Run(fmt.Sprintf("byDelivery=%v", byDelivery), func(t *testing.T) {
			ctx := context.Background()
			sd := newSeed(t, b, nil)
			d := sd.enqueue(sd.ep, t0)
			sd.finish(d, t0, webhook.OutcomeFail, "no")
			tx, err := sd.db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			var disabled int
			if err := tx.QueryRow(`SELECT disabled FROM outhook_endpoints WHERE id = $1 FOR UPDATE`, sd.ep.ID).Scan(&disabled); err != nil {
				t.Fatal(err)
			}
			type result struct {
				n   int
				err error
			}
			done := make(chan result, 1)
			go func() {
				p := webhook.RequeueParams{EndpointID: sd.ep.ID, Now: t0.Add(time.Hour)}
				if byDelivery {
					p = webhook.RequeueParams{DeliveryID: d.ID, Now: t0.Add(time.Hour)}
				}
				n, err := sd.s.Requeue(ctx, p)
				done <- result{n, err}
			}()
			time.Sleep(300 * time.Millisecond) // Requeue has started
			if _, err := tx.Exec(`UPDATE outhook_endpoints SET disabled = 1, disabled_reason = 'by hand', disabled_at = $1 WHERE id = $2`,
				t0.UnixNano(), sd.ep.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(`UPDATE outhook_deliveries SET state = 'failed', last_error = $1 WHERE endpoint_id = $2 AND state = 'pending'`,
				webhook.ReasonEndpointDisabled, sd.ep.ID); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			r := <-done
			if r.err != nil || r.n != 0 {
				t.Fatalf("Requeue racing a disable: %d queued, %v; want 0, nil", r.n, r.err)
			}
			got, err := sd.s.GetDelivery(ctx, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != webhook.StateFailed {
				t.Fatalf("delivery of the disabled endpoint is %s, want failed", got.State)
			}
		})
	}
}

// TestTimeBoundsOutsideNanosecondRange: bounds a caller passes beyond
// what int64 nanoseconds hold (before 1677, after 2262) are clamped, not
// wrapped around (year 3000 used to become 1830, year 1500 2084).
func TestTimeBoundsOutsideNanosecondRange(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			sd := newSeed(t, b, nil)
			d := sd.enqueue(sd.ep, t0)
			sd.finish(d, t0, webhook.OutcomeFail, "no")
			early := time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)
			late := time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
			for _, f := range []webhook.DeliveryFilter{
				{EndpointID: sd.ep.ID, Since: early},
				{EndpointID: sd.ep.ID, Until: late},
				{EndpointID: sd.ep.ID, Since: early, Until: late},
			} {
				got, _, err := sd.s.ListDeliveries(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != 1 || got[0].ID != d.ID {
					t.Fatalf("ListDeliveries(Since %v, Until %v): %d deliveries, want 1", f.Since, f.Until, len(got))
				}
			}
			for _, f := range []webhook.DeliveryFilter{
				{EndpointID: sd.ep.ID, Since: late},
				{EndpointID: sd.ep.ID, Until: early},
			} {
				got, _, err := sd.s.ListDeliveries(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != 0 {
					t.Fatalf("ListDeliveries(Since %v, Until %v): %d deliveries, want 0", f.Since, f.Until, len(got))
				}
			}
			if n, err := sd.s.Requeue(ctx, webhook.RequeueParams{EndpointID: sd.ep.ID, Since: late, Now: t0.Add(time.Hour)}); err != nil || n != 0 {
				t.Fatalf("Requeue since year 3000: %d, %v; want 0", n, err)
			}
			if n, err := sd.s.Requeue(ctx, webhook.RequeueParams{EndpointID: sd.ep.ID, Since: early, Now: t0.Add(time.Hour)}); err != nil || n != 1 {
				t.Fatalf("Requeue since year 1500: %d, %v; want 1", n, err)
			}
		})
	}
}
