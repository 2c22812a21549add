package integration

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
	"github.com/outhook/webhook/webhooktest"
)

// receiver is a webhook endpoint on loopback that records what arrives.
type receiver struct {
	*httptest.Server
	mu  sync.Mutex
	got map[string]int // webhook-id -> deliveries received
	// arrivals are the webhook-ids received, in the order their requests
	// were answered.
	arrivals []string
	status   atomic.Int32 // what it answers; 200 unless set
	delay    time.Duration
	active   atomic.Int32 // requests being served now
	peak     atomic.Int32
}

// newReceiver starts a receiver that waits delay before answering.
func newReceiver(t testing.TB, delay time.Duration) *receiver {
	r := &receiver{got: map[string]int{}, delay: delay}
	r.status.Store(http.StatusOK)
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n := r.active.Add(1)
		defer r.active.Add(-1)
		for {
			p := r.peak.Load()
			if n <= p || r.peak.CompareAndSwap(p, n) {
				break
			}
		}
		_, _ = io.Copy(io.Discard, req.Body)
		if r.delay > 0 {
			time.Sleep(r.delay)
		}
		r.mu.Lock()
		r.got[req.Header.Get("webhook-id")]++
		r.arrivals = append(r.arrivals, req.Header.Get("webhook-id"))
		r.mu.Unlock()
		w.WriteHeader(int(r.status.Load()))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[id]
}

func (r *receiver) total() (distinct, all int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.got {
		distinct++
		all += n
	}
	return distinct, all
}

func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOutbox publishes inside the application's transaction: nothing is
// visible or sent before commit, nothing at all after rollback, and the
// committed event goes out at once: the dispatcher polls only every hour,
// so what wakes it is the store's Listen (NOTIFY on PostgreSQL, the change
// counter on SQLite).
func TestOutbox(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			db := b.open(t)
			s := newStore(t, db, b.dialect, &sqlstore.Options{WaitForNotification: pgxWait, PollInterval: 20 * time.Millisecond})
			if _, err := db.Exec(`CREATE TABLE orders (id TEXT PRIMARY KEY, total INTEGER NOT NULL)`); err != nil {
				t.Fatal(err)
			}
			rcv := newReceiver(t, 0)
			d := webhooktest.StartDispatcher(t, s, &webhook.Config{PollInterval: time.Hour})
			if _, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "shop", URL: rcv.URL}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond) // the first claim pass and LISTEN are done

			placeOrder := func(id string) (*sql.Tx, webhook.Event) {
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tx.Exec(rebind(b, `INSERT INTO orders (id, total) VALUES (?, ?)`), id, 42); err != nil {
					t.Fatal(err)
				}
				ev, err := d.PublishTx(ctx, tx, webhook.Event{ID: "evt-" + id, Type: "order.created", TenantID: "shop", Data: map[string]any{"order": id}})
				if err != nil {
					t.Fatal(err)
				}
				return tx, ev
			}

			// Rolled back: gone.
			tx, ev := placeOrder("o1")
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			if _, err := s.GetEvent(ctx, ev.ID); !errors.Is(err, webhook.ErrNotFound) {
				t.Fatalf("rolled back event: %v, want ErrNotFound", err)
			}

			// Committed: invisible until commit, then delivered at once.
			tx, ev = placeOrder("o2")
			if _, err := s.GetEvent(ctx, ev.ID); !errors.Is(err, webhook.ErrNotFound) {
				t.Fatalf("event visible before commit: %v", err)
			}
			time.Sleep(300 * time.Millisecond)
			if n := rcv.count(ev.ID); n != 0 {
				t.Fatalf("sent %d times before commit", n)
			}
			start := time.Now()
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "committed event delivered", func() bool { return rcv.count(ev.ID) == 1 })
			t.Logf("%s: delivered %s after commit (poll interval 1h)", b.name, time.Since(start).Round(time.Millisecond))
			time.Sleep(200 * time.Millisecond)
			if n := rcv.count("evt-o1"); n != 0 {
				t.Fatalf("rolled back event sent %d times", n)
			}
			if n := rcv.count(ev.ID); n != 1 {
				t.Fatalf("committed event sent %d times", n)
			}
		})
	}
}

// rebind turns ? into $n for PostgreSQL, for the tests' own queries.
func rebind(b backend, q string) string {
	if b.dialect != sqlstore.Postgres {
		return q
	}
	out := make([]byte, 0, len(q)+8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			out = append(out, '$')
			out = strconv.AppendInt(out, int64(n), 10)
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}
