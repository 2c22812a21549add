// Command bench measures outhook's delivery engine against baselines on
// the same loopback receiver, in one process run each, and writes
// BENCHMARKS.md with a chart of the ratios (bench/ratios.svg).
//
//	make bench          # a throwaway durable PostgreSQL, full mode
//	make bench-quick    # the same, quick mode (under 4 minutes)
//	go run ./bench [-quick] [-out BENCHMARKS.md] [-only memstore,pg-live]
//
// PostgreSQL comes from -pg or OUTHOOK_TEST_POSTGRES_URL (which
// scripts/with-postgres.sh sets); without it the PostgreSQL measurements
// are skipped. It uses only outhook's public API, so it measures whatever
// engine is in the tree.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

type pgxTx = pgx.Tx

// figures are one run of one measurement: named numbers.
type figures map[string]float64

// params size the measurements.
type params struct {
	reps         int
	warmup       time.Duration // before a rate window
	window       time.Duration // raw loop and memstore
	liveWindow   time.Duration // PostgreSQL live
	isoWindow    time.Duration // isolation
	pgN          int           // PostgreSQL burn-down
	sqliteN      int           // SQLite burn-down
	serial       int           // Publish latency samples
	pendingSizes []int
	pendingK     int
	pendingWins  int           // windows of pendingK timed back to back, where the size holds them
	timeout      time.Duration // a burn-down's limit
}

var (
	quickParams = params{reps: 1, warmup: time.Second, window: 3 * time.Second, liveWindow: 4 * time.Second,
		isoWindow: 3 * time.Second, pgN: 3000, sqliteN: 3000, serial: 300,
		pendingSizes: []int{10_000, 30_000}, pendingK: 2000, pendingWins: 8, timeout: 2 * time.Minute}
	fullParams = params{reps: 3, warmup: 2 * time.Second, window: 5 * time.Second, liveWindow: 8 * time.Second,
		isoWindow: 5 * time.Second, pgN: 10_000, sqliteN: 10_000, serial: 1000,
		pendingSizes: []int{10_000, 1_000_000}, pendingK: 5000, pendingWins: 8, timeout: 5 * time.Minute}
)

// env is what the measurements share.
type env struct {
	p    params
	rcv  *receiver
	pg   *pg // nil without PostgreSQL
	dir  string
	seq  atomic.Int64
	mu   sync.Mutex
	info map[string]string

	explain bool // pg-pending prints the plans of a Claim and a CompleteBatch
}

// note records a fact for the report.
func (e *env) note(k, v string) {
	e.mu.Lock()
	e.info[k] = v
	e.mu.Unlock()
}

// measurement is one named part of the harness.
type measurement struct {
	name   string
	needPG bool
	quick  bool // runs in quick mode
	run    func(context.Context, *env) (figures, error)
	about  string
}

var measurements = []measurement{
	{"memstore", false, true, benchMemstore, "raw net/http POST loop vs outhook memstore end to end, 32 in flight"},
	{"pg-burndown", true, true, benchPGBurnDown, "PostgreSQL burn-down: River defaults, River FetchCooldown 5 ms, outhook; client CPU per delivery"},
	{"pg-live", true, true, benchPGLive, "PostgreSQL live: 8 publishers, River tuned vs outhook"},
	{"sqlite", false, true, benchSQLite, "SQLite burn-down: one commit per delivery (16 goroutines) vs outhook sqlstore, and memstore"},
	{"publish", false, true, benchPublish, "Publish p50 vs a bare INSERT of the same row, serial"},
	{"isolation", false, true, benchIsolation, "healthy deliveries/s beside hanging and misbehaving endpoints (memstore)"},
	{"ratelimit", false, true, benchRateLimit, "unlimited deliveries/s beside 50 rate-limited endpoints with backlogs vs alone (memstore)"},
	{"ordered", false, true, benchOrdered, "unordered deliveries/s beside 50 Ordered endpoints with backlogs vs alone (memstore)"},
	{"pg-pending", true, false, benchPGPending, "PostgreSQL per-delivery cost at 10k vs 1M pending (full mode only)"},
}

func main() {
	quick := flag.Bool("quick", false, "quick mode: each measurement once, smaller sizes (under 4 minutes)")
	out := flag.String("out", "BENCHMARKS.md", "the report to write; empty writes none")
	svg := flag.String("svg", "bench/ratios.svg", "the chart to write (referenced from -out)")
	only := flag.String("only", "", "comma-separated measurements to run: "+names())
	pgURL := flag.String("pg", os.Getenv("OUTHOOK_TEST_POSTGRES_URL"), "PostgreSQL URL (default $OUTHOOK_TEST_POSTGRES_URL)")
	reps := flag.Int("reps", 0, "repetitions of each measurement (default 3, quick 1); the report gives the median")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (baselines included) to this file")
	explain := flag.Bool("explain", false, "pg-pending: print the plans (EXPLAIN ANALYZE, BUFFERS, through auto_explain) of one Claim and one CompleteBatch at each size")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*quick, *out, *svg, *only, *pgURL, *reps, *explain); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func names() string {
	var n []string
	for _, m := range measurements {
		n = append(n, m.name)
	}
	return strings.Join(n, ", ")
}

func run(quick bool, out, svg, only, pgURL string, reps int, explain bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	started := time.Now()
	p := fullParams
	if quick {
		p = quickParams
	}
	if reps > 0 {
		p.reps = reps
	}
	selected := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			if !slices.ContainsFunc(measurements, func(m measurement) bool { return m.name == n }) {
				return fmt.Errorf("-only %q: no such measurement; there are %s", n, names())
			}
			selected[n] = true
		}
	}
	dir, err := os.MkdirTemp("", "outhook-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rcv, err := newReceiver()
	if err != nil {
		return err
	}
	defer rcv.close()
	e := &env{p: p, rcv: rcv, dir: dir, info: map[string]string{}, explain: explain}
	m := collectMachine(quick)
	if pgURL != "" {
		if e.pg, err = openPG(ctx, pgURL); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		defer e.pg.close()
		m.pg = e.pg.settings(ctx)
		if m.pg["fsync"] != "on" || m.pg["synchronous_commit"] != "on" {
			fmt.Fprintf(os.Stderr, "bench: WARNING: PostgreSQL is not durable (fsync=%s, synchronous_commit=%s): `make bench` starts one that is\n", m.pg["fsync"], m.pg["synchronous_commit"])
		}
	}
	m.sqlite = sqliteSettings(e)
	fmt.Printf("outhook bench (%s mode, %d repetition(s) each, median reported) on %d CPUs, load %s, a page fault %.1f µs\n", mode(quick), p.reps, m.cpus, m.loadStart, m.faultUs)

	results := map[string][]figures{}
	var skipped []string
	for _, ms := range measurements {
		switch {
		case len(selected) > 0 && !selected[ms.name]:
			continue
		case len(selected) == 0 && quick && !ms.quick:
			skipped = append(skipped, ms.name+" (full mode only; -only "+ms.name+" runs it)")
			continue
		case ms.needPG && e.pg == nil:
			skipped = append(skipped, ms.name+" ("+errNoPG.Error()+")")
			continue
		}
		n := p.reps
		if ms.name == "pg-pending" {
			n = 1 // loading 1M events takes a minute or more: once is enough for a ratio this coarse
		}
		for i := 0; i < n; i++ {
			fmt.Printf("%-12s run %d/%d: %s ... ", ms.name, i+1, n, ms.about)
			t0 := time.Now()
			f, err := ms.run(ctx, e)
			if err != nil {
				fmt.Println("failed")
				return fmt.Errorf("%s: %w", ms.name, err)
			}
			fmt.Printf("%.1fs\n", time.Since(t0).Seconds())
			results[ms.name] = append(results[ms.name], f)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	m.loadEnd = loadAvg()
	m.elapsed = time.Since(started)
	rows := buildRows(results, e)
	fmt.Println()
	fmt.Print(textTable(rows))
	for _, s := range skipped {
		fmt.Println("skipped:", s)
	}
	if out == "" {
		return nil
	}
	chart := svgChart(rows)
	if err := os.MkdirAll(filepath.Dir(svg), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(svg, []byte(chart), 0o644); err != nil {
		return err
	}
	rel, err := filepath.Rel(filepath.Dir(out), svg)
	if err != nil {
		rel = svg
	}
	md := markdown(m, e, rows, skipped, filepath.ToSlash(rel))
	if err := os.WriteFile(out, []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Printf("\nwrote %s and %s (%.0fs in all)\n", out, svg, m.elapsed.Seconds())
	return nil
}

func mode(quick bool) string {
	if quick {
		return "quick"
	}
	return "full"
}
