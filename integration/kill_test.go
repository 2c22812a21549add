package integration

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
)

// The SIGKILL test: a child process (this test binary, running
// TestKillChild) publishes events, half of them inside an application
// transaction, and delivers them; the parent kills it with SIGKILL at a
// random moment, several times, then starts it once more and checks that
// every event the child reported committed reached every endpoint.
const (
	killChildEnv   = "OUTHOOK_KILL_CHILD"
	killDialectEnv = "OUTHOOK_KILL_DIALECT"
	killDSNEnv     = "OUTHOOK_KILL_DSN"
	killFromEnv    = "OUTHOOK_KILL_FROM"
	killCountEnv   = "OUTHOOK_KILL_COUNT"
	killRounds     = 6
	killLease      = 2 * time.Second
)

func TestKill(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			var dsn string
			var db *sql.DB
			if b.dialect == sqlstore.Postgres {
				dsn = pgSchema(t)
				db = openPGURL(t, dsn)
			} else {
				var path string
				db, path = openSQLite(t, sqliteDriver)
				dsn = sqliteDSN(path)
			}
			runKill(t, b, db, dsn, false)
		})
	}
}

// TestKillOrdered is TestKill with Ordered endpoints (ordered delivery).
// Besides no loss it checks that no endpoint saw its events out of
// publish order. Publish order is the events' numbers: each child
// publishes them one after another, in increasing numbers, and each round
// uses higher numbers than the one before. Delivery is at least once, so
// an event may arrive more than once: a child killed after the receiver
// answered but before the attempt was recorded leaves it to be sent
// again. "No reordering" is therefore: the numbers of the events an
// endpoint receives, in the order it answers them, never decrease. A
// repeat is allowed only of the latest event received, and every event
// arrives (first) after every event published before it.
func TestKillOrdered(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			var dsn string
			var db *sql.DB
			if b.dialect == sqlstore.Postgres {
				dsn = pgSchema(t)
				db = openPGURL(t, dsn)
			} else {
				var path string
				db, path = openSQLite(t, sqliteDriver)
				dsn = sqliteDSN(path)
			}
			runKill(t, b, db, dsn, true)
		})
	}
}

// eventNumber is n of "evt-n".
func eventNumber(t *testing.T, id string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(id, "evt-"))
	if err != nil {
		t.Fatalf("unexpected webhook-id %q", id)
	}
	return n
}

func runKill(t *testing.T, b backend, db *sql.DB, dsn string, ordered bool) {
	ctx := context.Background()
	s := newStore(t, db, b.dialect, nil)
	if _, err := db.Exec(`CREATE TABLE kill_orders (id TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	admin, err := webhook.NewDispatcher(s, &webhook.Config{AllowPrivateNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	var rcvs []*receiver
	for i := 0; i < 3; i++ {
		r := newReceiver(t, 5*time.Millisecond)
		rcvs = append(rcvs, r)
		if _, _, err := admin.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: r.URL, Ordered: ordered}); err != nil {
			t.Fatal(err)
		}
	}

	var mu sync.Mutex
	committed := map[string]bool{}
	// start runs a child that publishes count events from number from and
	// delivers; kill SIGKILLs it and waits until it is gone.
	start := func(from, count int) (kill func()) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
		cmd.Env = append(os.Environ(),
			killChildEnv+"=1", killDialectEnv+"="+string(b.dialect), killDSNEnv+"="+dsn,
			killFromEnv+"="+strconv.Itoa(from), killCountEnv+"="+strconv.Itoa(count))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		read := make(chan struct{})
		go func() {
			defer close(read)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if id, ok := strings.CutPrefix(sc.Text(), "P "); ok {
					mu.Lock()
					committed[id] = true
					mu.Unlock()
				}
			}
		}()
		return func() {
			_ = cmd.Process.Kill() // SIGKILL
			<-read
			_ = cmd.Wait()
		}
	}

	for round := 0; round < killRounds; round++ {
		// Startup (exec, open, migrate check) takes 100 ms or more; kill anywhere
		// from before the first publish to well into delivery.
		kill := start(round*100000, 150)
		time.Sleep(time.Duration(200+rand.IntN(1300)) * time.Millisecond)
		kill()
		mu.Lock()
		t.Logf("round %d: %d events committed so far", round+1, len(committed))
		mu.Unlock()
	}

	// Restart: the last child publishes nothing and must deliver
	// everything, including what the killed ones held under a lease.
	kill := start(0, 0)
	defer kill()
	missing := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for id := range committed {
			for _, r := range rcvs {
				if r.count(id) == 0 {
					n++
				}
			}
		}
		return n
	}
	deadline := time.Now().Add(20*time.Second + killLease)
	for missing() > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	m := missing()
	mu.Lock()
	n := len(committed)
	mu.Unlock()
	dup := 0
	for _, r := range rcvs {
		distinct, all := r.total()
		dup += all - distinct
	}
	t.Logf("%s: %d kills, %d committed events x 3 endpoints, %d (event, endpoint) pairs missing, %d duplicate sends (at least once)",
		b.name, killRounds, n, m, dup)
	if n == 0 {
		t.Fatal("no event was committed: the children were killed too early")
	}
	if m > 0 {
		t.Fatalf("%d (event, endpoint) pairs never delivered after restart", m)
	}
	if !ordered {
		return
	}
	for i, r := range rcvs {
		r.mu.Lock()
		arrivals := append([]string(nil), r.arrivals...)
		r.mu.Unlock()
		last, repeats := -1, 0
		for j, id := range arrivals {
			n := eventNumber(t, id)
			switch {
			case n < last:
				t.Fatalf("endpoint %d: evt-%d arrived (arrival %d) after evt-%d: out of publish order", i, n, j, last)
			case n == last:
				repeats++ // at least once: the latest again, after a kill
			}
			last = n
		}
		t.Logf("endpoint %d: %d arrivals in publish order, %d repeats of the latest", i, len(arrivals), repeats)
	}
}

// TestKillChild is the child process of TestKill; it runs only when
// TestKill starts it.
func TestKillChild(t *testing.T) {
	if os.Getenv(killChildEnv) != "1" {
		t.Skip("child process of TestKill")
	}
	dialect := sqlstore.Dialect(os.Getenv(killDialectEnv))
	driverName := "pgx"
	if dialect == sqlstore.SQLite {
		driverName = sqliteDriver
	}
	db, err := sql.Open(driverName, os.Getenv(killDSNEnv))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, db, dialect, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := webhook.NewDispatcher(s, &webhook.Config{
		// The Lease must exceed RequestTimeout plus the time recording may
		// take (min(RequestTimeout, 10 s)); the receivers answer in 5 ms.
		AllowPrivateNetworks: true, Workers: 4, Lease: killLease, RequestTimeout: 500 * time.Millisecond,
		PollInterval: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	from, _ := strconv.Atoi(os.Getenv(killFromEnv))
	count, _ := strconv.Atoi(os.Getenv(killCountEnv))
	for i := from; i < from+count; i++ {
		id := fmt.Sprintf("evt-%d", i)
		ev := webhook.Event{ID: id, Type: "order.created", TenantID: "acme", Data: i}
		if i%2 == 0 {
			if _, err := d.Publish(ctx, ev); err != nil {
				t.Fatal(err)
			}
		} else {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			q := `INSERT INTO kill_orders (id) VALUES ($1)`
			if dialect == sqlstore.SQLite {
				q = `INSERT INTO kill_orders (id) VALUES (?)`
			}
			if _, err := tx.Exec(q, id); err != nil {
				t.Fatal(err)
			}
			if _, err := d.PublishTx(ctx, tx, ev); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		// Only now is the event committed; a kill before this line leaves
		// it unreported, which the parent does not count either way.
		fmt.Fprintf(os.Stdout, "P %s\n", id)
		time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
	}
	select {} // deliver until killed
}
