package integration

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/internal/badinput"
	"github.com/outhook/webhook/sqlstore"
)

// TestBadInputOnSQL runs the root package's table of bad input (NUL bytes,
// invalid UTF-8, impossible IDs, out-of-range times) through a Dispatcher
// on sqlstore: every call answers ErrInvalid or ErrNotFound, never a
// driver error (PostgreSQL's SQLSTATE 22021), none of the input reaches
// the Store, and nothing stored changes.
func TestBadInputOnSQL(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
			cfg := &webhook.Config{Clock: func() time.Time { return now }}
			db := b.open(t)
			s := newStore(t, db, b.dialect, nil)
			d, err := webhook.NewDispatcher(s, cfg)
			if err != nil {
				t.Fatal(err)
			}
			ep, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{
				TenantID: "acme", Name: "production", URL: "https://example.com/hook",
				Events: []string{"post.*"}, Headers: http.Header{"X-Token": {"t"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			ev, err := d.Publish(ctx, webhook.Event{TenantID: "acme", Type: "post.created"})
			if err != nil {
				t.Fatal(err)
			}
			f := badinput.Fixture{TenantID: "acme", EndpointID: ep.ID, EventType: "post.created", EventID: ev.ID, BeginTx: func(ctx context.Context) (*sql.Tx, error) {
				return db.BeginTx(ctx, nil)
			}}
			before, err := badinput.Take(ctx, s, f, now)
			if err != nil {
				t.Fatal(err)
			}
			if len(before.Deliveries) != 1 {
				t.Fatalf("%d deliveries before, want 1", len(before.Deliveries))
			}

			var (
				mu      sync.Mutex
				reached []string
			)
			guarded, err := webhook.NewDispatcher(badinput.Guard(s, func(msg string) {
				mu.Lock()
				reached = append(reached, msg)
				mu.Unlock()
			}), cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range badinput.Calls(f) {
				t.Run(c.Name, func(t *testing.T) {
					mu.Lock()
					reached = nil
					mu.Unlock()
					err := c.Do(ctx, guarded)
					if !errors.Is(err, c.Want) {
						t.Fatalf("got %v, want %v", err, c.Want)
					}
					var ve *webhook.ValidationError
					if c.Want == webhook.ErrInvalid && !errors.As(err, &ve) {
						t.Errorf("%v is not a *ValidationError", err)
					}
					mu.Lock()
					defer mu.Unlock()
					if len(reached) > 0 {
						t.Errorf("the Store was reached: %s", strings.Join(reached, "; "))
					}
				})
			}

			after, err := badinput.Take(ctx, s, f, now)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(before, after) {
				t.Errorf("something stored changed:\nbefore %+v\nafter  %+v", before, after)
			}
			for table, want := range map[string]int{"endpoints": 1, "secrets": 1, "events": 1, "deliveries": 1, "attempts": 0} {
				var n int
				if err := db.QueryRowContext(ctx, `SELECT count(*) FROM `+sqlstore.TablePrefixDefault+table).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != want {
					t.Errorf("%s holds %d rows, want %d", table, n, want)
				}
			}
		})
	}
}

// TestTimesAtTheLimitsOnSQL: a rotation with a grace beyond int64
// nanoseconds keeps the old secret signing (it used to wrap into the past
// and retire it at once), and an event created at the edges of the
// accepted range reads back as it was published.
func TestTimesAtTheLimitsOnSQL(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
			s := newStore(t, b.open(t), b.dialect, nil)
			d, err := webhook.NewDispatcher(s, &webhook.Config{Clock: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			for _, grace := range []time.Duration{math.MaxInt64, 250 * 365 * 24 * time.Hour} {
				ep, old, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: "https://example.com/hook"})
				if err != nil {
					t.Fatal(err)
				}
				next, err := d.RotateSecret(ctx, ep.ID, grace)
				if err != nil {
					t.Fatal(err)
				}
				for _, at := range []time.Time{now, now.Add(100 * 365 * 24 * time.Hour)} {
					secrets, err := s.EndpointSecrets(ctx, ep.ID, at)
					if err != nil {
						t.Fatal(err)
					}
					if len(secrets) != 2 || secrets[0].Value != next || secrets[1].Value != old {
						t.Fatalf("grace %v: %d secrets active at %v, want the new and the old", grace, len(secrets), at)
					}
					if want := time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC); !secrets[1].ExpiresAt.Equal(want) {
						t.Errorf("grace %v: old secret expires %v, want %v", grace, secrets[1].ExpiresAt, want)
					}
				}
			}
			for _, at := range []time.Time{time.Unix(0, 0).UTC(), time.Date(2261, 12, 31, 23, 59, 59, 999999000, time.UTC)} {
				ev, err := d.Publish(ctx, webhook.Event{TenantID: "acme", Type: "post.created", CreatedAt: at})
				if err != nil {
					t.Fatal(err)
				}
				got, err := s.GetEvent(ctx, ev.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !got.CreatedAt.Equal(at) {
					t.Errorf("event created at %v reads back as %v", at, got.CreatedAt)
				}
			}
		})
	}
}

// TestUnicodeRoundTripsOnSQL: text that passes validation is stored and
// read back byte for byte, headers included.
func TestUnicodeRoundTripsOnSQL(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := newStore(t, b.open(t), b.dialect, nil)
			d, err := webhook.NewDispatcher(s, nil)
			if err != nil {
				t.Fatal(err)
			}
			p := webhook.EndpointParams{
				TenantID: "café-東京", Name: "Zürich – prod 🚀", URL: "https://example.com/ü?q=ß",
				Headers: http.Header{"X-Label": {"naïve\tvalue"}},
			}
			ep, _, err := d.CreateEndpoint(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			got, err := d.GetEndpoint(ctx, ep.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.TenantID != p.TenantID || got.Name != p.Name || got.URL != p.URL || got.Headers.Get("X-Label") != "naïve\tvalue" {
				t.Errorf("stored %q %q %q %q, want %q %q %q %q", got.TenantID, got.Name, got.URL, got.Headers.Get("X-Label"),
					p.TenantID, p.Name, p.URL, "naïve\tvalue")
			}
			eps, err := d.ListEndpoints(ctx, p.TenantID)
			if err != nil || len(eps) != 1 {
				t.Fatalf("ListEndpoints: %d, %v", len(eps), err)
			}
		})
	}
}
