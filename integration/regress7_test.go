package integration

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
)

// TestClaimSkipsUndecodableEndpoint: an endpoint row whose events or
// headers JSON does not parse (an operator's hand edit) used to fail every
// Claim, so no delivery of any endpoint went out again. Now only that
// endpoint's deliveries are held back, with a LastError that says why and
// an Error log line naming the endpoint; once the row is fixed they go out
// when the lease ends. GetEndpoint and ListEndpoints fail with an error
// naming the endpoint and the column.
func TestClaimSkipsUndecodableEndpoint(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			logs := &syncBuffer{}
			sd := newSeed(t, b, &sqlstore.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
			healthy := sd.ep
			badEvents := sd.endpoint("whsec_YmFkLWV2ZW50cy1lbmRwb2ludA==")
			badHeaders := sd.endpoint("whsec_YmFkLWhlYWRlcnMtZW5kcG9pbnQ=")
			// The corrupt endpoints' deliveries come first in due order.
			dEvents := sd.enqueue(badEvents, t0)
			dHeaders := sd.enqueue(badHeaders, t0.Add(time.Second))
			dHealthy := sd.enqueue(healthy, t0.Add(2*time.Second))
			for _, c := range []struct{ col, id string }{{"events", badEvents.ID}, {"headers", badHeaders.ID}} {
				if _, err := sd.db.Exec(rebind(b, `UPDATE outhook_endpoints SET `+c.col+` = '{"oops' WHERE id = ?`), c.id); err != nil {
					t.Fatal(err)
				}
			}

			now, lease := t0.Add(time.Minute), time.Minute
			cs, err := sd.s.Claim(ctx, webhook.ClaimParams{Now: now, Lease: lease, Limit: 10})
			if err != nil {
				t.Fatalf("Claim with undecodable endpoint rows in the table: %v", err)
			}
			if len(cs) != 1 || cs[0].Delivery.ID != dHealthy.ID {
				t.Fatalf("Claim returned %d claims, want only the healthy endpoint's delivery", len(cs))
			}
			if _, _, err := sd.s.Complete(ctx, webhook.Completion{DeliveryID: dHealthy.ID, Token: cs[0].Token, Outcome: webhook.OutcomeSuccess,
				Now: now, Attempt: &webhook.Attempt{StartedAt: now, StatusCode: 200}}); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				col string
				ep  *webhook.Endpoint
				d   *webhook.Delivery
			}{{"events", badEvents, dEvents}, {"headers", badHeaders, dHeaders}} {
				got, err := sd.s.GetDelivery(ctx, c.d.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.State != webhook.StatePending || got.Attempts != 0 ||
					!strings.Contains(got.LastError, c.ep.ID) || !strings.Contains(got.LastError, c.col) {
					t.Logf("LE %q", got.LastError)
					t.Errorf("held-back delivery: state %s, attempts %d, last error %q; want pending, 0, naming endpoint %s and %s",
						got.State, got.Attempts, got.LastError, c.ep.ID, c.col)
				}
				if !strings.Contains(logs.String(), c.ep.ID) {
					t.Errorf("nothing logged about endpoint %s: %q", c.ep.ID, logs.String())
				}
				_, err = sd.s.GetEndpoint(ctx, c.ep.ID)
				if err == nil || !strings.Contains(err.Error(), c.ep.ID) || !strings.Contains(err.Error(), c.col) {
					t.Errorf("GetEndpoint of the corrupt row: %v; want an error naming the endpoint and %s", err, c.col)
				}
			}
			t.Log(logs.String())
			if !strings.Contains(logs.String(), "level=ERROR") {
				t.Errorf("not logged at Error level: %q", logs.String())
			}
			if _, err := sd.s.ListEndpoints(ctx, healthy.TenantID); err == nil || !strings.Contains(err.Error(), "sqlstore: endpoint ep-") {
				t.Errorf("ListEndpoints of the tenant: %v; want an error naming an endpoint", err)
			}
			if _, err := sd.s.ListEndpoints(ctx, "another-tenant"); err != nil {
				t.Errorf("ListEndpoints of another tenant: %v", err)
			}

			// Not handed out again within the lease; once the rows are
			// fixed, they go out when it ends.
			if cs, err := sd.s.Claim(ctx, webhook.ClaimParams{Now: now.Add(lease / 2), Lease: lease, Limit: 10}); err != nil || len(cs) != 0 {
				t.Fatalf("Claim within the lease: %d claims, %v; want none", len(cs), err)
			}
			if _, err := sd.db.Exec(rebind(b, `UPDATE outhook_endpoints SET events = '[]', headers = '{}' WHERE id IN (?, ?)`),
				badEvents.ID, badHeaders.ID); err != nil {
				t.Fatal(err)
			}
			cs, err = sd.s.Claim(ctx, webhook.ClaimParams{Now: now.Add(lease), Lease: lease, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) != 2 || cs[0].Delivery.ID != dEvents.ID || cs[1].Delivery.ID != dHeaders.ID {
				t.Fatalf("after the fix and the lease, Claim returned %d claims, want the two held-back deliveries", len(cs))
			}
		})
	}
}

// TestPanicInTransactionRollsBack: a panic inside a store transaction (here
// a nil delivery passed to Enqueue, after the event row is written) used
// to leave the transaction open: on PostgreSQL the *sql.Tx kept its
// connection and its row locks for good; on SQLite the connection went
// back to the pool inside BEGIN IMMEDIATE, holding the write lock, with
// the half-written event visible to whoever used it next. Now the
// transaction is rolled back and the panic goes on. The pool has one
// connection, so the leftover transaction is what every later call meets.
func TestPanicInTransactionRollsBack(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			db := b.open(t)
			s := newStore(t, db, b.dialect, nil)
			db.SetMaxOpenConns(1)
			sd := &seed{t: t, s: s, db: db}
			ep := sd.endpoint("whsec_dGhlLXNlY3JldC1vZi1lbmRwb2ludC0x")
			ev := &webhook.StoredEvent{ID: randomName("ev-"), Type: "post.created", TenantID: ep.TenantID, CreatedAt: t0, Body: []byte(`{}`)}

			func() {
				defer func() {
					r := recover()
					err, _ := r.(error)
					if r == nil || err == nil || !strings.Contains(err.Error(), "nil pointer") {
						t.Fatalf("Enqueue with a nil delivery: recovered %v, want the nil pointer panic passed on", r)
					}
				}()
				_ = s.Enqueue(context.Background(), ev, []*webhook.Delivery{nil})
			}()

			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, err := s.GetEvent(ctx, ev.ID); !errors.Is(err, webhook.ErrNotFound) {
				t.Fatalf("GetEvent after the panic: %v; want ErrNotFound (rolled back, connection free)", err)
			}
			d := &webhook.Delivery{ID: "d-" + ev.ID, EventID: ev.ID, EventType: ev.Type, TenantID: ep.TenantID, EndpointID: ep.ID,
				State: webhook.StatePending, NextAttemptAt: t0, CreatedAt: t0, UpdatedAt: t0}
			if err := s.Enqueue(ctx, ev, []*webhook.Delivery{d}); err != nil {
				t.Fatalf("Enqueue after the panic: %v", err)
			}
			cs, err := s.Claim(ctx, webhook.ClaimParams{Now: t0, Lease: time.Minute, Limit: 10})
			if err != nil || len(cs) != 1 || cs[0].Delivery.ID != d.ID {
				t.Fatalf("Claim after the panic: %d claims, %v; want the delivery", len(cs), err)
			}
		})
	}
}
