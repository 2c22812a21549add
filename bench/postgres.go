package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
)

// pgPool is the size of every connection pool to PostgreSQL: River's
// pgxpool and outhook's *sql.DB (SetMaxOpenConns and SetMaxIdleConns, as
// docs/sqlstore.md advises).
const pgPool = 20

// riverWorkers is River's MaxWorkers, and outhook's Workers and
// MaxInFlightPerEndpoint in the PostgreSQL measurements.
const riverWorkers = 100

// pg is the PostgreSQL side of the harness: River's pool and the
// database's URL.
type pg struct {
	url   string
	admin *sql.DB
	pool  *pgxpool.Pool
	http  *http.Client // River's jobs' client
	seq   atomic.Int64 // table prefixes

	statsOn     bool   // pg_stat_statements tracks outhook's sessions
	statsWhyNot string // why not
}

func openPG(ctx context.Context, url string) (*pg, error) {
	admin, err := sql.Open("pgx", url)
	if err != nil {
		return nil, err
	}
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		admin.Close()
		return nil, err
	}
	cfg.MaxConns = pgPool
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		admin.Close()
		return nil, err
	}
	p := &pg{url: url, admin: admin, pool: pool, http: tunedClient(riverWorkers)}
	mig, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		p.close()
		return nil, err
	}
	if _, err := mig.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		p.close()
		return nil, fmt.Errorf("river migrate: %w", err)
	}
	_, err = admin.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS bench_bare_events (
		id TEXT PRIMARY KEY, type TEXT NOT NULL, tenant_id TEXT NOT NULL,
		created_at BIGINT NOT NULL, body BYTEA NOT NULL)`)
	if err == nil {
		_, err = admin.ExecContext(ctx, `CREATE INDEX IF NOT EXISTS bench_bare_events_created_idx ON bench_bare_events (created_at)`)
	}
	if err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *pg) close() {
	p.pool.Close()
	p.admin.Close()
}

// settings reads the server's version and durability settings.
func (p *pg) settings(ctx context.Context) map[string]string {
	out := map[string]string{}
	for _, name := range []string{"server_version", "fsync", "synchronous_commit", "full_page_writes", "wal_sync_method", "shared_buffers"} {
		var v string
		if err := p.admin.QueryRowContext(ctx, "SHOW "+name).Scan(&v); err != nil {
			v = "? (" + err.Error() + ")"
		}
		out[name] = v
	}
	var dir string
	if p.admin.QueryRowContext(ctx, "SHOW data_directory").Scan(&dir) == nil {
		out["data_fs"] = fsType(dir)
	}
	return out
}

// fsType is the type of the file system holding path, from /proc/mounts
// (the longest mount point that is a prefix of path).
func fsType(path string) string {
	b, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return "unknown"
	}
	best, typ := "", "unknown"
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		mp := f[1]
		if (path == mp || strings.HasPrefix(path, strings.TrimSuffix(mp, "/")+"/")) && len(mp) > len(best) {
			best, typ = mp, f[2]
		}
	}
	return typ
}

// checkpoint flushes the server's dirty pages, so a measurement does not
// pay for the previous one's writes.
func (p *pg) checkpoint(ctx context.Context) {
	_, _ = p.admin.ExecContext(ctx, "CHECKPOINT")
}

// outhook opens a Store in tables of their own (a fresh prefix) on a pool
// of its own; the returned function drops them.
func (p *pg) outhook(ctx context.Context) (*sqlstore.Store, func(), error) {
	s, _, drop, err := p.outhookPrefixed(ctx)
	return s, drop, err
}

// outhookPrefixed is outhook, also returning the tables' prefix.
func (p *pg) outhookPrefixed(ctx context.Context) (*sqlstore.Store, string, func(), error) {
	db, err := p.outhookDB()
	if err != nil {
		return nil, "", nil, err
	}
	s, prefix, drop, err := p.outhookOn(ctx, db)
	if err != nil {
		db.Close()
		return nil, "", nil, err
	}
	return s, prefix, func() {
		db.Close()
		drop()
	}, nil
}

// outhookDB opens a pool for outhook's stores, of River's size.
func (p *pg) outhookDB() (*sql.DB, error) {
	db, err := sql.Open("pgx", p.url)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(pgPool)
	db.SetMaxIdleConns(pgPool)
	return db, nil
}

// outhookOn opens a Store in tables of their own (a fresh prefix) on db,
// returning the prefix and a function that drops the tables.
func (p *pg) outhookOn(ctx context.Context, db *sql.DB) (*sqlstore.Store, string, func(), error) {
	prefix := "ob" + strconv.FormatInt(p.seq.Add(1), 10) + "_"
	s, err := sqlstore.Open(ctx, db, sqlstore.Postgres, &sqlstore.Options{
		TablePrefix: prefix,
		WaitForNotification: func(ctx context.Context, dc any) error {
			_, err := dc.(*stdlib.Conn).Conn().WaitForNotification(ctx)
			return err
		},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		return nil, "", nil, err
	}
	return s, prefix, func() { p.dropPrefix(context.Background(), prefix) }, nil
}

// dropPrefix drops every table whose name starts with prefix.
func (p *pg) dropPrefix(ctx context.Context, prefix string) {
	rows, err := p.admin.QueryContext(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND left(table_name, length($1)) = $1`, prefix)
	if err != nil {
		return
	}
	var names []string
	for rows.Next() {
		var n string
		if rows.Scan(&n) == nil {
			names = append(names, n)
		}
	}
	rows.Close()
	for _, n := range names {
		_, _ = p.admin.ExecContext(ctx, `DROP TABLE IF EXISTS "`+n+`" CASCADE`)
	}
}

// outhookBurnDown publishes n events before Start and times their
// delivery, in tables of their own on db; it returns deliveries/s, CPU µs
// per delivery, the load rate and how it loaded.
func (p *pg) outhookBurnDown(ctx context.Context, e *env, db *sql.DB, n int) (rate, cpu, load float64, how string, err error) {
	s, _, drop, err := p.outhookOn(ctx, db)
	if err != nil {
		return 0, 0, 0, "", err
	}
	defer drop()
	d, err := webhook.NewDispatcher(s, singleEndpointConfig(riverWorkers))
	if err != nil {
		return 0, 0, 0, "", err
	}
	if err := createEndpoint(ctx, d, tenant, e.rcv.url); err != nil {
		return 0, 0, 0, "", err
	}
	how, load, err = loadEvents(ctx, d, "ob", n)
	if err != nil {
		return 0, 0, 0, "", err
	}
	p.checkpoint(ctx)
	defer shutdown(d)
	rate, cpu, err = burnDown(ctx, e.rcv, func() error { return d.Start(ctx) }, n, e.p.timeout)
	return rate, cpu, load, how, err
}

// benchPGBurnDown: n events to one endpoint, published beforehand; the
// time to deliver them all: River with its defaults, River with
// FetchCooldown 5 ms, outhook.
func benchPGBurnDown(ctx context.Context, e *env) (figures, error) {
	n := e.p.pgN
	f := figures{}
	var err error
	if f["river_default/s"], f["river_default_cpu_us"], _, err = e.pg.riverBurnDown(ctx, e, 0, n); err != nil {
		return nil, fmt.Errorf("river defaults: %w", err)
	}
	if f["river_tuned/s"], f["river_tuned_cpu_us"], f["river_load/s"], err = e.pg.riverBurnDown(ctx, e, 5*time.Millisecond, n); err != nil {
		return nil, fmt.Errorf("river tuned: %w", err)
	}
	// River tuned runs second on its pool, whose connections River
	// defaults used first: their server processes have touched the
	// shared buffers and the memory a load and a burn-down need, which a
	// new connection pays for in page faults (see the machine's figure).
	// outhook's timed run is likewise its second on its pool, after a
	// first one in tables of their own, as River TRUNCATEs its table.
	db, err := e.pg.outhookDB()
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if _, _, _, _, err = e.pg.outhookBurnDown(ctx, e, db, n); err != nil {
		return nil, fmt.Errorf("outhook, first run: %w", err)
	}
	var how string
	if f["outhook/s"], f["outhook_cpu_us"], f["outhook_load/s"], how, err = e.pg.outhookBurnDown(ctx, e, db, n); err != nil {
		return nil, fmt.Errorf("outhook: %w", err)
	}
	e.note("loadHow", how)
	return f, nil
}

// publisher publishes one event per call until stop is closed.
type publisher func(ctx context.Context, id string) error

// live runs 8 goroutines calling publish for the warm-up and the window;
// it returns the receiver's rate over the window, the latency quantiles
// of the deliveries received in it, and publish calls per second.
func live(ctx context.Context, e *env, publish publisher) (rate, p50, p99, pubRate float64, err error) {
	const publishers = 8
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var published atomic.Int64
	var failed atomic.Value
	for g := 0; g < publishers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := publish(ctx, liveID(time.Now(), strconv.Itoa(g)+"-"+strconv.Itoa(i))); err != nil {
					if ctx.Err() == nil {
						failed.Store(err)
					}
					return
				}
				published.Add(1)
			}
		}()
	}
	time.Sleep(e.p.warmup)
	lat := &latencies{}
	e.rcv.lat.Store(lat)
	pub0, t0 := published.Load(), time.Now()
	rate = e.rcv.rate(e.p.liveWindow)
	pubRate = float64(published.Load()-pub0) / time.Since(t0).Seconds()
	e.rcv.lat.Store(nil)
	close(stop)
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		return 0, 0, 0, 0, err
	}
	return rate, millis(lat.quantile(0.50)), millis(lat.quantile(0.99)), pubRate, nil
}

// benchPGLive: 8 goroutines publish one event per call for a fixed time:
// River (FetchCooldown 5 ms) against outhook, deliveries/s and
// publish→receiver latency.
func benchPGLive(ctx context.Context, e *env) (figures, error) {
	f := figures{}
	b := string(body("river"))
	c, err := e.pg.river(ctx, e.rcv.url, 5*time.Millisecond)
	if err != nil {
		return nil, err
	}
	e.pg.checkpoint(ctx)
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	f["river/s"], f["river_p50_ms"], f["river_p99_ms"], f["river_pub/s"], err = live(ctx, e, func(ctx context.Context, id string) error {
		_, err := c.Insert(ctx, deliverArgs{ID: id, Body: b}, nil)
		return err
	})
	stopRiver(c)
	if err != nil {
		return nil, fmt.Errorf("river: %w", err)
	}

	s, drop, err := e.pg.outhook(ctx)
	if err != nil {
		return nil, err
	}
	defer drop()
	d, err := webhook.NewDispatcher(s, singleEndpointConfig(riverWorkers))
	if err != nil {
		return nil, err
	}
	if err := createEndpoint(ctx, d, tenant, e.rcv.url); err != nil {
		return nil, err
	}
	e.pg.checkpoint(ctx)
	if err := d.Start(ctx); err != nil {
		return nil, err
	}
	f["outhook/s"], f["outhook_p50_ms"], f["outhook_p99_ms"], f["outhook_pub/s"], err = live(ctx, e, func(ctx context.Context, id string) error {
		_, err := d.Publish(ctx, event(id))
		return err
	})
	shutdown(d)
	if err != nil {
		return nil, fmt.Errorf("outhook: %w", err)
	}
	return f, nil
}

// benchPGPublish: Publish's latency, serial, against a bare INSERT of the
// event's row into a table like outhook's events table, on the same kind
// of pool; the two alternate call by call so drift hits both alike.
func benchPGPublish(ctx context.Context, e *env) (figures, error) {
	s, drop, err := e.pg.outhook(ctx)
	if err != nil {
		return nil, err
	}
	defer drop()
	d, err := webhook.NewDispatcher(s, singleEndpointConfig(riverWorkers))
	if err != nil {
		return nil, err
	}
	if err := createEndpoint(ctx, d, tenant, e.rcv.url); err != nil {
		return nil, err
	}
	if _, err := e.pg.admin.ExecContext(ctx, "TRUNCATE bench_bare_events"); err != nil {
		return nil, err
	}
	bare, err := sql.Open("pgx", e.pg.url)
	if err != nil {
		return nil, err
	}
	defer bare.Close()
	bare.SetMaxOpenConns(pgPool)
	bare.SetMaxIdleConns(pgPool)
	insert := func(ctx context.Context, id string, b []byte) error {
		_, err := bare.ExecContext(ctx, `INSERT INTO bench_bare_events (id, type, tenant_id, created_at, body) VALUES ($1, $2, $3, $4, $5)`,
			id, eventType, tenant, time.Now().UnixNano(), b)
		return err
	}
	e.pg.checkpoint(ctx)
	ins, pub, err := publishLatency(ctx, e, d, insert)
	if err != nil {
		return nil, err
	}
	return figures{"insert_p50_ms": ins, "publish_p50_ms": pub}, nil
}

// publishLatency alternates a bare insert and a Publish, e.p.serial times
// each after a warm-up, and returns their p50 in ms.
func publishLatency(ctx context.Context, e *env, d *webhook.Dispatcher, insert func(context.Context, string, []byte) error) (float64, float64, error) {
	b := body("bare")
	const warm = 30
	var ins, pub []time.Duration
	for i := 0; i < warm+e.p.serial; i++ {
		t0 := time.Now()
		if err := insert(ctx, fmt.Sprintf("bare-%d", i), b); err != nil {
			return 0, 0, fmt.Errorf("bare insert: %w", err)
		}
		t1 := time.Now()
		if _, err := d.Publish(ctx, event(fmt.Sprintf("pub-%d", i))); err != nil {
			return 0, 0, fmt.Errorf("publish: %w", err)
		}
		t2 := time.Now()
		if i >= warm {
			ins = append(ins, t1.Sub(t0))
			pub = append(pub, t2.Sub(t1))
		}
	}
	return millis(quantile(ins, 0.5)), millis(quantile(pub, 0.5)), nil
}

var errNoPG = errors.New("no PostgreSQL: set OUTHOOK_TEST_POSTGRES_URL or -pg, or run `make bench`")
