// Command postgres shows the transactional outbox on PostgreSQL: an HTTP
// handler creates an order and publishes "order.created" inside the same
// database transaction, so the webhook goes out if and only if the order
// is committed. An order that fails a check after publishing is rolled
// back, and its event never leaves. Delivery starts right after commit
// (LISTEN/NOTIFY), not at the next poll.
//
// With a throwaway PostgreSQL server started and stopped for you, from the
// repository root:
//
//	scripts/with-postgres.sh go run ./examples/postgres
//
// or against your own server (it creates the tables example_orders and
// outhook_example_*):
//
//	DATABASE_URL=postgres://user@localhost/db go run ./examples/postgres
//
// It exits 1 if anything did not happen as described.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
	"github.com/outhook/webhook/verify"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "postgres example:", err)
		os.Exit(1)
	}
}

// databaseURL is DATABASE_URL, or the server scripts/with-postgres.sh started.
func databaseURL() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return os.Getenv("OUTHOOK_TEST_POSTGRES_URL")
}

// waitForNotification lets sqlstore use LISTEN/NOTIFY through pgx's
// database/sql driver (sqlstore itself imports no driver).
func waitForNotification(ctx context.Context, driverConn any) error {
	_, err := driverConn.(*stdlib.Conn).Conn().WaitForNotification(ctx)
	return err
}

func run() error {
	url := databaseURL()
	if url == "" {
		return errors.New("no database: run `scripts/with-postgres.sh go run ./examples/postgres`, or set DATABASE_URL")
	}
	ctx := context.Background()
	start := time.Now()
	logf := func(format string, args ...any) {
		fmt.Printf("%6.2fs  "+format+"\n", append([]any{time.Since(start).Seconds()}, args...)...)
	}

	// 1. The application's database, shared with outhook.
	db, err := sql.Open("pgx", url)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(10)
	db.SetMaxIdleConns(10) // the default 2 would reconnect all the time
	store, err := sqlstore.Open(ctx, db, sqlstore.Postgres, &sqlstore.Options{
		TablePrefix:         "outhook_example_",
		WaitForNotification: waitForNotification,
	})
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS example_orders (
		id BIGSERIAL PRIMARY KEY, tenant TEXT NOT NULL, item TEXT NOT NULL, quantity INTEGER NOT NULL)`); err != nil {
		return err
	}

	// 2. The dispatcher polls only every minute: what makes deliveries
	// prompt is the NOTIFY sent when the order's transaction commits.
	d, err := webhook.NewDispatcher(store, &webhook.Config{AllowPrivateNetworks: true, PollInterval: time.Minute})
	if err != nil {
		return err
	}
	if err := d.Start(ctx); err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = d.Shutdown(sctx)
	}()

	// 3. A customer's server that verifies every signature, and its endpoint.
	rcv := newReceiver(logf)
	defer rcv.Close()
	tenant := fmt.Sprintf("shop-%d", time.Now().UnixNano()) // a fresh tenant per run
	_, secret, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: tenant, Name: "orders", URL: rcv.URL, Events: []string{"order.*"}})
	if err != nil {
		return err
	}
	rcv.setSecret(secret)

	// 4. The application: POST /orders writes the order and its webhook in
	// one transaction.
	app := httptest.NewServer(ordersHandler(db, d, tenant))
	defer app.Close()

	orders := []struct {
		item     string
		quantity int
	}{{"coffee", 2}, {"tea", 50}, {"cake", 1}}
	for _, o := range orders {
		body := fmt.Sprintf(`{"item":%q,"quantity":%d}`, o.item, o.quantity)
		resp, err := http.Post(app.URL+"/orders", "application/json", strings.NewReader(body))
		if err != nil {
			return err
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		logf("POST /orders %-32s -> %d %s", body, resp.StatusCode, strings.TrimSpace(string(msg)))
	}

	// 5. Two orders committed: two webhooks. The rolled-back one: none.
	deadline := time.Now().Add(10 * time.Second)
	for rcv.count() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // anything else would arrive now
	got := rcv.items()
	logf("the customer received %d verified webhooks: %v", len(got), got)
	if len(got) != 2 || got[0] == "tea" || got[1] == "tea" {
		return fmt.Errorf("want webhooks for coffee and cake only, got %v", got)
	}
	if rcv.bad() > 0 {
		return fmt.Errorf("%d deliveries failed verification", rcv.bad())
	}
	logf("done: the outbox sent exactly what was committed")
	return nil
}

// ordersHandler creates an order and publishes order.created in the same
// transaction; orders over 10 items are refused after publishing, which
// rolls the event back with the order.
func ordersHandler(db *sql.DB, d *webhook.Dispatcher, tenant string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Item     string `json:"item"`
			Quantity int    `json:"quantity"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ctx := r.Context()
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer tx.Rollback() // no-op after Commit

		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO example_orders (tenant, item, quantity) VALUES ($1, $2, $3) RETURNING id`,
			tenant, in.Item, in.Quantity).Scan(&id); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		ev, err := d.PublishTx(ctx, tx, webhook.Event{
			Type: "order.created", TenantID: tenant,
			Data: map[string]any{"order_id": id, "item": in.Item, "quantity": in.Quantity},
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if in.Quantity > 10 {
			// Rolled back by the deferred Rollback: the order and its
			// webhook vanish together.
			http.Error(w, "out of stock (rolled back)", http.StatusConflict)
			return
		}
		if err := tx.Commit(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, "order %d, event %s", id, ev.ID)
	})
	return mux
}

// receiver is the customer's server: it verifies Standard Webhooks
// signatures and keeps the items of the orders it was told about.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	verifier verify.Standard
	got      []string
	failed   int
}

func newReceiver(logf func(string, ...any)) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if err := rc.verifier.Verify(r.Header, body); err != nil {
			rc.failed++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var env struct {
			Data struct {
				Item string `json:"item"`
			} `json:"data"`
		}
		_ = json.Unmarshal(body, &env)
		rc.got = append(rc.got, env.Data.Item)
		logf("customer got %s for %q, signature verified", r.Header.Get("webhook-id"), env.Data.Item)
	}))
	return rc
}

func (rc *receiver) setSecret(s string) {
	rc.mu.Lock()
	rc.verifier = verify.Standard{Secrets: []string{s}}
	rc.mu.Unlock()
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

func (rc *receiver) items() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.got...)
}

func (rc *receiver) bad() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.failed
}
