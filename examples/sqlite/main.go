// Command sqlite shows outhook as a durable single binary: everything
// (endpoints, events, deliveries, the attempt log) lives in one SQLite
// file through a pure-Go driver (modernc.org/sqlite, no cgo). Each run
// publishes a few events, some inside an application transaction, delivers
// them to a receiver on loopback and prints the delivery log, which keeps
// growing from run to run because it is on disk. Run it twice:
//
//	go run ./examples/sqlite
//	go run ./examples/sqlite -db /tmp/outhook-example.db
//
// The file defaults to outhook-example.db in the system's temporary
// directory. It exits 1 if anything did not happen as described.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
	"github.com/outhook/webhook/verify"
)

const tenant = "demo"

func main() {
	path := flag.String("db", filepath.Join(os.TempDir(), "outhook-example.db"), "SQLite database file")
	flag.Parse()
	if err := run(*path, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sqlite example:", err)
		os.Exit(1)
	}
}

// dsn opens path in WAL mode (readers never wait for the writer), waits
// up to 5 s for the write lock instead of failing at once, and starts
// every transaction with the write lock (_txlock=immediate), which is what
// SQLite needs when a transaction reads and then writes.
func dsn(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

func run(path string, out io.Writer) error {
	ctx := context.Background()
	start := time.Now()
	logf := func(format string, args ...any) {
		fmt.Fprintf(out, "%6.2fs  "+format+"\n", append([]any{time.Since(start).Seconds()}, args...)...)
	}

	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(4) // PublishTx holds one, the store needs others
	db.SetMaxIdleConns(4)
	store, err := sqlstore.Open(ctx, db, sqlstore.SQLite, nil)
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)`); err != nil {
		return err
	}
	logf("database %s (schema version %d)", path, store.SchemaVersion())

	d, err := webhook.NewDispatcher(store, &webhook.Config{AllowPrivateNetworks: true, PollInterval: 100 * time.Millisecond})
	if err != nil {
		return err
	}

	// The receiver listens on a new port each run. The endpoint is on disk:
	// create it the first time, later point it at the new port and rotate
	// its secret (a secret is shown only once, so this run gets a new one).
	rcv := newReceiver()
	defer rcv.Close()
	eps, err := d.ListEndpoints(ctx, tenant)
	if err != nil {
		return err
	}
	var ep *webhook.Endpoint
	var secret string
	if len(eps) == 0 {
		ep, secret, err = d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: tenant, Name: "notes-hook", URL: rcv.URL})
		if err != nil {
			return err
		}
		logf("endpoint %s created", ep.ID)
	} else {
		ep = eps[0]
		if _, err := d.UpdateEndpoint(ctx, ep.ID, webhook.EndpointParams{TenantID: tenant, Name: ep.Name, URL: rcv.URL}); err != nil {
			return err
		}
		if secret, err = d.RotateSecret(ctx, ep.ID, 0); err != nil {
			return err
		}
		logf("endpoint %s from an earlier run (created %s), moved to this run's receiver", ep.ID, ep.CreatedAt.Format(time.RFC3339))
	}
	rcv.setSecret(secret)

	// Publish before the workers start: the events wait on disk.
	for i := 1; i <= 2; i++ {
		ev, err := d.Publish(ctx, webhook.Event{Type: "note.pinged", TenantID: tenant, Data: map[string]any{"n": i}})
		if err != nil {
			return err
		}
		logf("published %s (note.pinged)", ev.ID)
	}
	// And one inside the application's own transaction (the outbox works
	// on SQLite too): the note and its webhook commit together.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO notes (text) VALUES (?)`, "hello from "+time.Now().Format(time.Kitchen))
	if err != nil {
		_ = tx.Rollback()
		return err
	}
	noteID, _ := res.LastInsertId()
	ev, err := d.PublishTx(ctx, tx, webhook.Event{Type: "note.created", TenantID: tenant, Data: map[string]any{"note_id": noteID}})
	if err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	logf("published %s (note.created, with note %d in one transaction)", ev.ID, noteID)

	if err := d.Start(ctx); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for rcv.count() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := d.Shutdown(sctx); err != nil {
		return err
	}
	if n := rcv.count(); n != 3 {
		return fmt.Errorf("the receiver verified %d deliveries, want 3", n)
	}

	// The delivery log, read page by page with the cursor.
	total, succeeded := 0, 0
	cursor := ""
	for {
		page, next, err := d.ListDeliveries(ctx, webhook.DeliveryFilter{EndpointID: ep.ID, Limit: 100, Cursor: cursor})
		if err != nil {
			return err
		}
		for _, dl := range page {
			total++
			if dl.State == webhook.StateSucceeded {
				succeeded++
			}
			if total <= 3 {
				logf("log: %s %-12s %-9s attempts=%d", dl.CreatedAt.Format("15:04:05.000"), dl.EventType, dl.State, dl.Attempts)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	logf("the log on disk holds %d deliveries (%d succeeded) from this and earlier runs", total, succeeded)
	return nil
}

// receiver is the customer's server; it counts deliveries whose signature
// verifies.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	verifier verify.Standard
	verified int
}

func newReceiver() *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if err := rc.verifier.Verify(r.Header, body); err != nil || !json.Valid(body) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		rc.verified++
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
	return rc.verified
}
