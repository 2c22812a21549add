package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
)

// pgxWait is Options.WaitForNotification for pgx's stdlib driver.
func pgxWait(ctx context.Context, driverConn any) error {
	_, err := driverConn.(*stdlib.Conn).Conn().WaitForNotification(ctx)
	return err
}

var t0 = time.Date(2031, time.January, 2, 3, 4, 5, 0, time.UTC)

// seed is a store with one endpoint and helpers to fill it.
type seed struct {
	t  *testing.T
	s  *sqlstore.Store
	db *sql.DB
	ep *webhook.Endpoint
	n  int
}

func newSeed(t *testing.T, b backend, opts *sqlstore.Options) *seed {
	t.Helper()
	db := b.open(t)
	s := newStore(t, db, b.dialect, opts)
	sd := &seed{t: t, s: s, db: db}
	sd.ep = sd.endpoint("whsec_dGhlLXNlY3JldC1vZi1lbmRwb2ludC0x")
	return sd
}

func (sd *seed) endpoint(secret string) *webhook.Endpoint {
	sd.t.Helper()
	sd.n++
	ep := &webhook.Endpoint{
		ID: fmt.Sprintf("ep-%d-%s", sd.n, randomName("")), TenantID: "tenant", URL: "https://example.com/hook",
		Method: "POST", ContentType: webhook.ContentTypeJSON, CreatedAt: t0, UpdatedAt: t0,
	}
	if err := sd.s.CreateEndpoint(context.Background(), ep, webhook.Secret{Value: secret, CreatedAt: t0}, 0); err != nil {
		sd.t.Fatal(err)
	}
	return ep
}

// enqueue stores one event with a delivery to ep, created and due at at.
func (sd *seed) enqueue(ep *webhook.Endpoint, at time.Time) *webhook.Delivery {
	sd.t.Helper()
	sd.n++
	ev := &webhook.StoredEvent{ID: fmt.Sprintf("ev-%d-%s", sd.n, randomName("")), Type: "post.created", TenantID: ep.TenantID, CreatedAt: at, Body: []byte(`{"n":1}`)}
	d := &webhook.Delivery{ID: "d-" + ev.ID, EventID: ev.ID, EventType: ev.Type, TenantID: ep.TenantID, EndpointID: ep.ID,
		State: webhook.StatePending, NextAttemptAt: at, CreatedAt: at, UpdatedAt: at}
	if err := sd.s.Enqueue(context.Background(), ev, []*webhook.Delivery{d}); err != nil {
		sd.t.Fatal(err)
	}
	return d
}

// finish claims d at at and completes it with outcome.
func (sd *seed) finish(d *webhook.Delivery, at time.Time, outcome webhook.Outcome, body string) {
	sd.t.Helper()
	ctx := context.Background()
	cs, err := sd.s.Claim(ctx, webhook.ClaimParams{Now: at, Lease: time.Minute, Limit: 1000})
	if err != nil {
		sd.t.Fatal(err)
	}
	for _, c := range cs {
		if c.Delivery.ID != d.ID {
			// Put back what we did not ask for.
			if _, _, err := sd.s.Complete(ctx, webhook.Completion{DeliveryID: c.Delivery.ID, Token: c.Token, Outcome: webhook.OutcomeRetry,
				Now: at, RetryAt: at, Attempt: &webhook.Attempt{Number: c.Delivery.Attempts + 1, StartedAt: at}}); err != nil {
				sd.t.Fatal(err)
			}
			continue
		}
		_, _, err := sd.s.Complete(ctx, webhook.Completion{DeliveryID: d.ID, Token: c.Token, Outcome: outcome, Now: at,
			Attempt: &webhook.Attempt{Number: 1, StartedAt: at, StatusCode: 200, ResponseBody: body, Success: outcome == webhook.OutcomeSuccess}})
		if err != nil {
			sd.t.Fatal(err)
		}
		return
	}
	sd.t.Fatalf("delivery %s not claimable at %s", d.ID, at)
}

func TestMigrateConcurrently(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			var dbs []*sql.DB
			switch b.dialect {
			case sqlstore.Postgres:
				u := pgSchema(t)
				for i := 0; i < 6; i++ {
					dbs = append(dbs, openPGURL(t, u))
				}
			default:
				_, path := openSQLite(t, sqliteDriver)
				for i := 0; i < 6; i++ {
					dbs = append(dbs, openSQLitePath(t, sqliteDriver, path))
				}
			}
			// Six "processes" migrate at once; all succeed, one schema.
			var wg sync.WaitGroup
			errs := make([]error, len(dbs))
			for i, db := range dbs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = sqlstore.Open(context.Background(), db, b.dialect, nil)
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("migrate %d: %v", i, err)
				}
			}
			// The newest version is recorded (numbers may have gaps while
			// branches that add migrations are merged).
			var versions int
			if err := dbs[0].QueryRow(`SELECT MAX(version) FROM outhook_schema_migrations`).Scan(&versions); err != nil {
				t.Fatal(err)
			}
			s, _ := sqlstore.New(dbs[0], b.dialect, nil)
			if versions != s.SchemaVersion() {
				t.Fatalf("newest version recorded %d, want %d", versions, s.SchemaVersion())
			}
			// Again: a no-op.
			if err := s.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			// A database from the future is refused.
			if _, err := dbs[0].Exec(`INSERT INTO outhook_schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)`); err != nil {
				t.Fatal(err)
			}
			if err := s.Migrate(context.Background()); err == nil || !strings.Contains(err.Error(), "999") {
				t.Fatalf("migrate on a newer schema: %v", err)
			}
		})
	}
}

// TestSecretsEncryptedAtRest dumps the secrets table and looks for the
// secret; then rotates the key and re-encrypts.
func TestSecretsEncryptedAtRest(t *testing.T) {
	const secret = "whsec_c3VwZXItc2VjcmV0LXZhbHVlLTEyMzQ1Njc4OQ=="
	k1 := sqlstore.EncryptionKey{ID: "2026-01", Key: []byte("k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1")}
	k2 := sqlstore.EncryptionKey{ID: "2026-07", Key: []byte("k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2")}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			sd := newSeed(t, b, &sqlstore.Options{EncryptionKeys: []sqlstore.EncryptionKey{k1}})
			ep := sd.endpoint(secret)
			dump := func() string {
				rows, err := sd.db.Query(`SELECT endpoint_id, key_id, value FROM outhook_secrets`)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				var sb strings.Builder
				for rows.Next() {
					var a, k, v string
					if err := rows.Scan(&a, &k, &v); err != nil {
						t.Fatal(err)
					}
					fmt.Fprintf(&sb, "%s|%s|%s\n", a, k, v)
				}
				return sb.String()
			}
			d := dump()
			if strings.Contains(d, secret) || strings.Contains(d, "c3VwZXItc2VjcmV0") {
				t.Fatalf("the dump holds the secret:\n%s", d)
			}
			if !strings.Contains(d, "|2026-01|") {
				t.Fatalf("key ID not stored:\n%s", d)
			}
			got, err := sd.s.EndpointSecrets(ctx, ep.ID, t0)
			if err != nil || len(got) != 1 || got[0].Value != secret {
				t.Fatalf("EndpointSecrets = %v, %v", got, err)
			}

			// Rotate: k2 first, k1 kept to read old rows.
			rotated := newStore(t, sd.db, b.dialect, &sqlstore.Options{EncryptionKeys: []sqlstore.EncryptionKey{k2, k1}})
			if got, err := rotated.EndpointSecrets(ctx, ep.ID, t0); err != nil || got[0].Value != secret {
				t.Fatalf("after rotation: %v, %v", got, err)
			}
			n, err := rotated.ReencryptSecrets(ctx)
			if err != nil || n != 2 {
				t.Fatalf("ReencryptSecrets = %d, %v; want 2 (two endpoints)", n, err)
			}
			if d := dump(); strings.Contains(d, "|2026-01|") || strings.Contains(d, secret) {
				t.Fatalf("after re-encryption:\n%s", d)
			}
			// k1 can go now.
			only2 := newStore(t, sd.db, b.dialect, &sqlstore.Options{EncryptionKeys: []sqlstore.EncryptionKey{k2}})
			if got, err := only2.EndpointSecrets(ctx, ep.ID, t0); err != nil || got[0].Value != secret {
				t.Fatalf("with k2 only: %v, %v", got, err)
			}
			// Without the key, reading fails loudly rather than signing with garbage.
			none := newStore(t, sd.db, b.dialect, &sqlstore.Options{EncryptionKeys: []sqlstore.EncryptionKey{k1}})
			if _, err := none.EndpointSecrets(ctx, ep.ID, t0); !errors.Is(err, sqlstore.ErrUnknownKey) {
				t.Fatalf("with the wrong key: %v, want ErrUnknownKey", err)
			}
		})
	}
}

func TestPrune(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			sd := newSeed(t, b, &sqlstore.Options{Retention: 30 * 24 * time.Hour, PruneBatch: 7})
			day := 24 * time.Hour
			var old, recent, pending []*webhook.Delivery
			for i := 0; i < 40; i++ {
				d := sd.enqueue(sd.ep, t0)
				sd.finish(d, t0.Add(time.Minute), []webhook.Outcome{webhook.OutcomeSuccess, webhook.OutcomeFail}[i%2], "ok")
				old = append(old, d)
			}
			for i := 0; i < 5; i++ {
				d := sd.enqueue(sd.ep, t0.Add(20*day))
				sd.finish(d, t0.Add(20*day+time.Minute), webhook.OutcomeSuccess, "ok")
				recent = append(recent, d)
			}
			for i := 0; i < 3; i++ {
				// Pending for ages (a retry far in the future): never pruned.
				pending = append(pending, sd.enqueue(sd.ep, t0.Add(100*day)))
			}
			if err := sd.s.Maintain(ctx, t0.Add(45*day)); err != nil {
				t.Fatal(err)
			}
			for _, d := range old {
				if _, err := sd.s.GetDelivery(ctx, d.ID); !errors.Is(err, webhook.ErrNotFound) {
					t.Fatalf("old delivery %s: %v, want ErrNotFound", d.ID, err)
				}
				if _, err := sd.s.GetEvent(ctx, d.EventID); !errors.Is(err, webhook.ErrNotFound) {
					t.Fatalf("old event %s: %v, want ErrNotFound", d.EventID, err)
				}
			}
			for _, d := range append(recent, pending...) {
				if _, err := sd.s.GetDelivery(ctx, d.ID); err != nil {
					t.Fatalf("kept delivery %s: %v", d.ID, err)
				}
				if _, err := sd.s.GetEvent(ctx, d.EventID); err != nil {
					t.Fatalf("kept event %s: %v", d.EventID, err)
				}
			}
			var attempts int
			if err := sd.db.QueryRow(`SELECT COUNT(*) FROM outhook_attempts`).Scan(&attempts); err != nil {
				t.Fatal(err)
			}
			if attempts != len(recent) {
				t.Fatalf("%d attempts left, want %d", attempts, len(recent))
			}
		})
	}
}

func TestResponseExcerptBounded(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			sd := newSeed(t, b, &sqlstore.Options{ResponseExcerpt: 100})
			d := sd.enqueue(sd.ep, t0)
			body := strings.Repeat("é", 200) + "\x00tail" // NUL: PostgreSQL text refuses it
			sd.finish(d, t0, webhook.OutcomeSuccess, body)
			as, err := sd.s.ListAttempts(context.Background(), d.ID)
			if err != nil || len(as) != 1 {
				t.Fatalf("ListAttempts = %v, %v", as, err)
			}
			if got := as[0].ResponseBody; len(got) > 100 || !strings.HasPrefix(got, "éé") {
				t.Fatalf("excerpt of %d bytes: %q", len(got), got)
			}
		})
	}
}

// TestListen checks that a commit in another transaction wakes Listen
// (NOTIFY on PostgreSQL through the pgx hook, the counter on SQLite), and
// a rollback does not.
func TestListen(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			sd := newSeed(t, b, &sqlstore.Options{WaitForNotification: pgxWait, PollInterval: 20 * time.Millisecond})
			ctx, cancel := context.WithCancel(context.Background())
			woke := make(chan struct{}, 100)
			done := make(chan error, 1)
			go func() { done <- sd.s.Listen(ctx, func() { woke <- struct{}{} }) }()
			if b.dialect == sqlstore.Postgres {
				<-woke // the first wake after LISTEN
			}
			time.Sleep(100 * time.Millisecond)
			drain(woke)

			enqueueTx := func(commit bool) {
				tx, err := sd.db.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				ev := &webhook.StoredEvent{ID: randomName("ev"), Type: "post.created", CreatedAt: t0, Body: []byte("{}")}
				d := &webhook.Delivery{ID: randomName("d"), EventID: ev.ID, EventType: ev.Type, EndpointID: sd.ep.ID,
					State: webhook.StatePending, NextAttemptAt: t0, CreatedAt: t0, UpdatedAt: t0}
				if err := sd.s.EnqueueTx(ctx, tx, ev, []*webhook.Delivery{d}); err != nil {
					t.Fatal(err)
				}
				if commit {
					err = tx.Commit()
				} else {
					err = tx.Rollback()
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			enqueueTx(false)
			select {
			case <-woke:
				t.Fatal("woken by a rolled back transaction")
			case <-time.After(300 * time.Millisecond):
			}
			enqueueTx(true)
			select {
			case <-woke:
			case <-time.After(5 * time.Second):
				t.Fatal("not woken within 5 s of a commit")
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("Listen returned %v after cancel, want nil", err)
			}
		})
	}
}

func drain(c chan struct{}) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

// TestClaimConcurrentPostgres: many Claims at once on several pools take
// disjoint sets of deliveries (SKIP LOCKED), and together all of them.
func TestClaimConcurrentPostgres(t *testing.T) {
	u := pgSchema(t)
	ctx := context.Background()
	var stores []*sqlstore.Store
	for i := 0; i < 4; i++ {
		stores = append(stores, newStore(t, openPGURL(t, u), sqlstore.Postgres, nil))
	}
	sd := &seed{t: t, s: stores[0]}
	var eps []*webhook.Endpoint
	for i := 0; i < 5; i++ {
		eps = append(eps, sd.endpoint("whsec_eA=="))
	}
	const total = 500
	for i := 0; i < total; i++ {
		sd.enqueue(eps[i%len(eps)], t0)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%len(stores)]
			for {
				cs, err := s.Claim(ctx, webhook.ClaimParams{Now: t0, Lease: time.Hour, Limit: 7, MaxPerEndpoint: 3, InFlight: map[string]int{}})
				if err != nil {
					t.Error(err)
					return
				}
				if len(cs) == 0 {
					return
				}
				per := map[string]int{}
				mu.Lock()
				for _, c := range cs {
					seen[c.Delivery.ID]++
					per[c.Endpoint.ID]++
				}
				mu.Unlock()
				for ep, n := range per {
					if n > 3 {
						t.Errorf("one claim returned %d deliveries of endpoint %s, cap 3", n, ep)
					}
				}
			}
		}()
	}
	wg.Wait()
	if len(seen) != total {
		t.Fatalf("claimed %d distinct deliveries, want %d", len(seen), total)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("delivery %s claimed %d times under a live lease", id, n)
		}
	}
}

// TestCompleteAfterDisableRace: a Claim that read the endpoint just before
// a concurrent disable committed can hold a delivery the disable did not
// end. Its Complete must not count a failure past the threshold. The race
// is set up by hand: claim, disable, then put the delivery back to pending
// as the racing Claim would have left it.
func TestCompleteAfterDisableRace(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			sd := newSeed(t, b, nil)
			d := sd.enqueue(sd.ep, t0)
			cs, err := sd.s.Claim(ctx, webhook.ClaimParams{Now: t0, Lease: time.Minute, Limit: 1})
			if err != nil || len(cs) != 1 {
				t.Fatalf("Claim = %v, %v", cs, err)
			}
			if err := sd.s.DisableEndpoint(ctx, sd.ep.ID, "by hand", t0); err != nil {
				t.Fatal(err)
			}
			if _, err := sd.db.Exec(rebind(b, `UPDATE outhook_deliveries SET state = 'pending', last_error = '', claim_token = ? WHERE id = ?`),
				cs[0].Token, d.ID); err != nil {
				t.Fatal(err)
			}
			_, _, err = sd.s.Complete(ctx, webhook.Completion{DeliveryID: d.ID, Token: cs[0].Token, Outcome: webhook.OutcomeFail,
				Now: t0.Add(time.Second), DisableAfter: 1, Attempt: &webhook.Attempt{Number: 1, StartedAt: t0, Error: "HTTP 500"}})
			if !errors.Is(err, webhook.ErrLeaseLost) {
				t.Fatalf("Complete = %v, want ErrLeaseLost", err)
			}
			ep, _ := sd.s.GetEndpoint(ctx, sd.ep.ID)
			got, _ := sd.s.GetDelivery(ctx, d.ID)
			if ep.ConsecutiveFailures != 0 || ep.DisabledReason != "by hand" || got.State != webhook.StateFailed || got.LastError != webhook.ReasonEndpointDisabled {
				t.Fatalf("endpoint %d failures, reason %q; delivery %s %q", ep.ConsecutiveFailures, ep.DisabledReason, got.State, got.LastError)
			}

			// The same race with a 2xx: the receiver got it, so it is
			// recorded as a success, and the endpoint stays disabled.
			if _, err := sd.db.Exec(rebind(b, `UPDATE outhook_deliveries SET state = 'pending', last_error = '', claim_token = ? WHERE id = ?`),
				cs[0].Token, d.ID); err != nil {
				t.Fatal(err)
			}
			ep, disabled, err := sd.s.Complete(ctx, webhook.Completion{DeliveryID: d.ID, Token: cs[0].Token, Outcome: webhook.OutcomeSuccess,
				Now: t0.Add(2 * time.Second), Attempt: &webhook.Attempt{Number: 1, StartedAt: t0, StatusCode: 204, Success: true}})
			if err != nil || disabled || !ep.Disabled || !ep.LastSuccessAt.Equal(t0.Add(2*time.Second)) {
				t.Fatalf("Complete(success) = %+v, %v, %v; want the success recorded on the still disabled endpoint", ep, disabled, err)
			}
			if got, _ := sd.s.GetDelivery(ctx, d.ID); got.State != webhook.StateSucceeded {
				t.Fatalf("delivery %s, want succeeded", got.State)
			}
		})
	}
}
