package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
)

// machine is what the report says about where it ran.
type machine struct {
	cpus      int
	model     string
	goVersion string
	kernel    string
	date      time.Time
	loadStart string
	loadEnd   string
	command   string
	args      string
	elapsed   time.Duration
	quick     bool
	faultUs   float64 // pageFaultCost
	pg        map[string]string
	sqlite    map[string]string
}

func collectMachine(quick bool) *machine {
	m := &machine{
		cpus:      runtime.NumCPU(),
		model:     cpuModel(),
		goVersion: runtime.Version(),
		date:      time.Now().UTC(),
		loadStart: loadAvg(),
		quick:     quick,
		faultUs:   pageFaultCost(),
		command:   os.Getenv("OUTHOOK_BENCH_COMMAND"),
		args:      strings.TrimSpace("go run ./bench " + strings.Join(os.Args[1:], " ")),
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = runtime.GOOS + " " + strings.TrimSpace(string(b))
	} else {
		m.kernel = runtime.GOOS
	}
	return m
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// loadAvg is the 1, 5 and 15 minute load averages, as uptime prints them.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return f[0] + ", " + f[1] + ", " + f[2]
}

// noisy reports whether other processes were busy when the run began or
// ended: a 1-minute load average of 0.5 or more (the harness adds load of
// its own while it runs, so the end figure overstates).
func (m *machine) noisy() bool {
	for _, l := range []string{m.loadStart} {
		if v, err := strconv.ParseFloat(strings.Split(l, ",")[0], 64); err == nil && v >= 0.5 {
			return true
		}
	}
	return false
}

// rowDef is one line of the table: a figure of outhook's against a
// baseline's, from one measurement.
type rowDef struct {
	section     string
	label       string
	unit        string
	base, out   string // figure keys
	baseName    string
	lowerBetter bool    // for the figures: ms and µs
	target      float64 // on the ratio, 0 for none
	absTarget   float64 // on outhook's figure, 0 for none
	targetText  string
}

// row is a rowDef with its medians.
type row struct {
	rowDef
	base, out          float64 // medians
	ratio              float64 // median of the per-run ratios
	ratioMin, ratioMax float64
	runs               int
}

func (r row) met() (bool, bool) {
	switch {
	case r.target > 0 && r.lowerBetter:
		return r.ratio <= r.target, true
	case r.target > 0:
		return r.ratio >= r.target, true
	case r.absTarget > 0:
		return r.out <= r.absTarget, true
	}
	return false, false
}

func rowDefs(e *env) []rowDef {
	p := e.p
	n, sn := strconv.Itoa(p.pgN), strconv.Itoa(p.sqliteN)
	defs := []rowDef{
		{"memstore", "memstore end to end, 32 in flight", "deliveries/s", "raw/s", "memstore/s", "tuned net/http POST loop", false, 0.9, 0, "≥ 0.9×"},
		{"memstore", "CPU per delivery: memstore vs raw loop", "µs", "raw_cpu_us", "memstore_cpu_us", "tuned net/http POST loop", true, 0, 0, ""},
		{"pg-burndown", "PostgreSQL burn-down, " + n + " events (vs River defaults)", "deliveries/s", "river_default/s", "outhook/s", "River " + depVersion("github.com/riverqueue/river") + ", defaults", false, 0, 0, ""},
		{"pg-burndown", "PostgreSQL burn-down, " + n + " events (vs River tuned)", "deliveries/s", "river_tuned/s", "outhook/s", "River, FetchCooldown 5 ms", false, 1.5, 0, "≥ 1.5×"},
		{"pg-burndown", "PostgreSQL client CPU per delivery (burn-down)", "µs", "river_tuned_cpu_us", "outhook_cpu_us", "River, FetchCooldown 5 ms", true, 0, 150, "≤ 150 µs"},
		{"pg-burndown", "PostgreSQL loading " + n + " events", "events/s", "river_load/s", "outhook_load/s", "River InsertMany, 1000 a call", false, 1.0, 0, "≥ 1×"},
		{"pg-live", "PostgreSQL live, 8 publishers", "deliveries/s", "river/s", "outhook/s", "River, FetchCooldown 5 ms", false, 1.5, 0, "≥ 1.5×"},
		{"pg-live", "PostgreSQL live, publish→receiver p50", "ms", "river_p50_ms", "outhook_p50_ms", "River, FetchCooldown 5 ms", true, 0, 0, ""},
		{"pg-live", "PostgreSQL live, publish→receiver p99", "ms", "river_p99_ms", "outhook_p99_ms", "River, FetchCooldown 5 ms", true, 1.0, 0, "≤ 1×"},
		{"pg-live", "PostgreSQL live, publish calls", "calls/s", "river_pub/s", "outhook_pub/s", "River Insert", false, 0, 0, ""},
		{"sqlite", "SQLite burn-down, " + sn + " events (vs one commit per delivery)", "deliveries/s", "loop/s", "outhook/s", "one commit per delivery, 16 goroutines", false, 3, 0, "≥ 3×"},
		{"sqlite", "SQLite burn-down, " + sn + " events (vs memstore)", "deliveries/s", "memstore/s", "outhook/s", "outhook memstore burn-down", false, 0.5, 0, "≥ 0.5×"},
		{"publish", "PostgreSQL Publish p50, serial", "ms", "pg_insert_p50_ms", "pg_publish_p50_ms", "bare INSERT of the event row", true, 1.3, 0, "≤ 1.3×"},
		{"publish", "SQLite Publish p50, serial", "ms", "sqlite_insert_p50_ms", "sqlite_publish_p50_ms", "bare INSERT of the event row", true, 1.3, 0, "≤ 1.3×"},
		{"isolation", "isolation: 1 of 11 endpoints hanging (10 %)", "healthy deliveries/s", "healthy/s", "hang10/s", "10 healthy endpoints alone", false, 0.9, 0, "≥ 0.9×"},
		{"isolation", "isolation: 4 of 14 endpoints hanging (30 %)", "healthy deliveries/s", "healthy/s", "hang30/s", "10 healthy endpoints alone", false, 0.9, 0, "≥ 0.9×"},
		{"isolation", "isolation: beside 7 misbehaving endpoints", "healthy deliveries/s", "healthy/s", "misbehaving/s", "10 healthy endpoints alone", false, 0.9, 0, "≥ 0.9×"},
		{"ratelimit", "rate-limited endpoints beside unlimited ones", "unlimited deliveries/s", "alone/s", "beside/s", "10 unlimited endpoints alone", false, 0.9, 0, "≥ 0.9×"},
		{"ordered", "Ordered endpoints beside unordered ones", "unordered deliveries/s", "alone/s", "beside/s", "10 unordered endpoints alone", false, 0.9, 0, "≥ 0.9×"},
	}
	if s := p.pendingSizes; len(s) >= 2 {
		lo, hi := s[0], s[len(s)-1]
		l, h := "pending_"+strconv.Itoa(lo), "pending_"+strconv.Itoa(hi)
		vs, base := sizeText(hi)+" vs "+sizeText(lo)+" pending", "outhook at "+sizeText(lo)+" pending"
		defs = append(defs,
			rowDef{"pg-pending", "PostgreSQL time per delivery, " + vs, "µs", l + "_us", h + "_us", base, true, 1.2, 0, "≤ 1.2×"},
			rowDef{"pg-pending", "PostgreSQL client CPU per delivery, " + vs, "µs", l + "_cpu_us", h + "_cpu_us", base, true, 1.2, 0, "≤ 1.2×"},
			rowDef{"pg-pending", "PostgreSQL server CPU per delivery, " + vs, "µs", l + "_server_cpu_us", h + "_server_cpu_us", base, true, 1.2, 0, "≤ 1.2×"},
			rowDef{"pg-pending", "PostgreSQL statement time per delivery, " + vs, "µs", l + "_server_us", h + "_server_us", base, true, 1.2, 0, "≤ 1.2×"},
			rowDef{"pg-pending", "PostgreSQL server page faults per delivery, " + vs, "faults", l + "_server_faults", h + "_server_faults", base, true, 0, 0, ""})
	}
	return defs
}

// sizeText is a count of deliveries as 10k or 1M.
func sizeText(n int) string {
	if n >= 1_000_000 && n%1_000_000 == 0 {
		return strconv.Itoa(n/1_000_000) + "M"
	}
	return strconv.Itoa(n/1000) + "k"
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func buildRows(results map[string][]figures, e *env) []row {
	var rows []row
	for _, d := range rowDefs(e) {
		runs := results[d.section]
		var bs, outs, rs []float64
		for _, f := range runs {
			b, okb := f[d.base]
			o, oko := f[d.out]
			if !okb || !oko {
				continue
			}
			bs, outs = append(bs, b), append(outs, o)
			if b > 0 {
				rs = append(rs, o/b)
			}
		}
		if len(bs) == 0 {
			continue
		}
		r := row{rowDef: d, base: median(bs), out: median(outs), ratio: median(rs), runs: len(bs)}
		if len(rs) > 0 {
			r.ratioMin, r.ratioMax = slices.Min(rs), slices.Max(rs)
		}
		rows = append(rows, r)
	}
	return rows
}

// num formats a figure with a precision that suits its size.
func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case v >= 1000:
		s := strconv.FormatFloat(v, 'f', 0, 64)
		// thousands separators
		var b strings.Builder
		for i, c := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		return b.String()
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func ratioText(r row) string {
	if math.IsNaN(r.ratio) {
		return "—"
	}
	s := strconv.FormatFloat(r.ratio, 'f', 2, 64) + "×"
	if r.runs > 1 && r.ratioMax > r.ratioMin {
		s += fmt.Sprintf(" (%.2f–%.2f)", r.ratioMin, r.ratioMax)
	}
	return s
}

func metText(r row) string {
	met, ok := r.met()
	switch {
	case !ok:
		return ""
	case met:
		return "yes"
	}
	return "no"
}

func textTable(rows []row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-78s %12s %12s  %-22s %-9s %s\n", "measurement", "baseline", "outhook", "ratio (outhook/base)", "target", "met")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-78s %12s %12s  %-22s %-9s %s\n", r.label+" ["+r.unit+"]", num(r.base), num(r.out), ratioText(r), r.targetText, metText(r))
	}
	return b.String()
}

func markdown(m *machine, e *env, rows []row, skipped []string, svgPath string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Benchmarks\n\n")
	w("Generated by `bench/` (%s mode) on %s. Every figure compares outhook with a baseline measured\n", mode(m.quick), m.date.Format("2006-01-02 15:04 MST"))
	w("in the same process run, against the same loopback receiver, so read the **ratios**: the absolute\n")
	w("figures move with the machine and whatever else runs on it. ")
	if e.p.reps > 1 {
		w("Each measurement ran %d times; the table gives the medians, and the range of the ratios in brackets.\n\n", e.p.reps)
	} else {
		w("Each measurement ran once (quick mode): expect a spread of 10–30 %% between runs.\n\n")
	}
	if m.noisy() {
		w("**The machine was shared and noisy**: other processes were running (load average %s when the run began,\n", m.loadStart)
		w("on %d CPUs), so every figure here is lower and less steady than on an idle machine, and the\n", m.cpus)
		w("baseline and outhook may have met different amounts of interference. Ratios are still paired by run.\n\n")
	}
	w("## Machine\n\n")
	w("| | |\n|---|---|\n")
	w("| CPUs | %d × %s |\n", m.cpus, m.model)
	w("| OS | %s |\n", m.kernel)
	w("| Go | %s |\n", m.goVersion)
	if m.faultUs >= 0 {
		w("| page fault (first write to a shared page) | %.1f µs |\n", m.faultUs)
	}
	if m.pg != nil {
		w("| PostgreSQL | %s, on loopback, fsync=%s, synchronous_commit=%s, full_page_writes=%s, wal_sync_method=%s, shared_buffers=%s, data directory on %s |\n",
			m.pg["server_version"], m.pg["fsync"], m.pg["synchronous_commit"], m.pg["full_page_writes"], m.pg["wal_sync_method"], m.pg["shared_buffers"], m.pg["data_fs"])
	} else {
		w("| PostgreSQL | not used |\n")
	}
	w("| SQLite | %s (modernc.org/sqlite %s), journal_mode=%s, synchronous=%s (1 = NORMAL) |\n", m.sqlite["version"], depVersion("modernc.org/sqlite"), m.sqlite["journal_mode"], m.sqlite["synchronous"])
	w("| load average (uptime) | %s at the start, %s at the end |\n", m.loadStart, m.loadEnd)
	w("| run time | %.0f s |\n\n", m.elapsed.Seconds())
	w("## Command\n\n```\n")
	if m.command != "" {
		w("%s\n# which runs:\n", m.command)
	}
	w("%s\n```\n\n", m.args)
	w("`make bench` is the full mode (3 runs of each, larger sizes); `make bench-quick` the quick one.\n")
	w("Both start a throwaway PostgreSQL with fsync and synchronous_commit on (`OUTHOOK_PG_DURABLE=1\n")
	w("scripts/with-postgres.sh`). `go run ./bench -only pg-live,isolation` runs a subset.\n\n")
	w("## Results\n\n")
	w("Ratio is outhook ÷ baseline. For deliveries/s higher is better; for ms and µs lower is better.\n\n")
	w("| measurement | unit | baseline | baseline figure | outhook | ratio | target | met |\n|---|---|---|---:|---:|---:|---|---|\n")
	for _, r := range rows {
		w("| %s | %s | %s | %s | %s | %s | %s | %s |\n", r.label, r.unit, r.baseName, num(r.base), num(r.out), ratioText(r), r.targetText, metText(r))
	}
	w("\n![ratios of outhook to its baselines](%s)\n\n", svgPath)
	if len(skipped) > 0 {
		w("Not run: %s.\n\n", strings.Join(skipped, "; "))
	}
	w("## What each row measures\n\n")
	w("The receiver is one `net/http` server on 127.0.0.1 that reads the body and answers 204. Every\n")
	w("delivery, outhook's and the baselines', is a POST of the same %d-byte JSON envelope\n", len(body("x")))
	w("(`webhook.DefaultEnvelope`), signed by `webhook.StandardSigner` with the same secret. The baselines\n")
	w("send with a tuned `http.Client` (keep-alive for every worker, no compression); outhook with its\n")
	w("default client. outhook runs with its defaults except `AllowPrivateNetworks` (loopback) and, with one\n")
	w("endpoint, `Workers` and `MaxInFlightPerEndpoint` set to the baseline's concurrency (32 for the raw\n")
	w("loop, 100 for River and the SQLite burn-downs). CPU figures are the whole process's\n")
	w("(getrusage, user + system) divided by deliveries, so they include the in-process receiver: the raw\n")
	w("loop's figure is the floor of sending and receiving one request.\n\n")
	w("- **memstore**: %d goroutines POST in a loop, against a Dispatcher on memstore fed by 4 publishers that\n", inFlight)
	w("  keep at most 4096 events waiting; deliveries/s at the receiver over %s after %s of warm-up.\n", e.p.window, e.p.warmup)
	w("- **PostgreSQL burn-down**: %d events to one endpoint are published first (River: `InsertMany`,\n", e.p.pgN)
	w("  1000 a call; outhook: %s), then the time from `Start` to the last delivery at the receiver.\n", loadHow(e))
	w("  River %s with riverpgxv5 (pgx %s), 100 workers on the default queue, with its defaults\n", depVersion("github.com/riverqueue/river"), depVersion("github.com/jackc/pgx/v5"))
	w("  (FetchCooldown 100 ms) and with FetchCooldown 5 ms; outhook's sqlstore on the same database, in\n")
	w("  tables of its own. Both pools hold %d connections (pgxpool MaxConns; `SetMaxOpenConns` and\n", pgPool)
	w("  `SetMaxIdleConns`); outhook's store has the LISTEN/NOTIFY hook. A CHECKPOINT precedes each timing.\n")
	w("  River tuned's run is the second on its pool, after River defaults'; outhook's timed run is\n")
	w("  likewise the second on its pool, after a first one (load and burn-down) in other tables. A\n")
	w("  pool's first run pays for new connections whose server processes touch, page by page, the\n")
	w("  shared buffers and memory they need (see the machine's page fault figure).\n")
	w("  The loading row is the rate of that first step.\n")
	w("- **PostgreSQL live**: 8 goroutines publish one event per call (River `Insert`, outhook `Publish`) for\n")
	w("  %s of warm-up and a %s window, with the consumer running; deliveries/s at the receiver in the\n", e.p.warmup, e.p.liveWindow)
	w("  window, and the latency from the publish call to the receiver of the deliveries received in it\n")
	w("  (publishers are not throttled: when the consumer is slower, the backlog and the latency grow).\n")
	w("- **SQLite burn-down**: %d events on a new WAL file each run (the DSN of docs/sqlstore.md, %d-connection\n", e.p.sqliteN, sqlitePool)
	w("  pool). The baseline: 16 goroutines each take the next job (an in-process counter stands for the\n")
	w("  claim), read its body, POST it and mark it done with one autocommitted UPDATE: one commit per\n")
	w("  delivery. outhook: sqlstore with 100 in flight. memstore: the same burn-down on memstore.\n")
	w("- **Publish p50**: serial `Publish` of one event to a tenant with one endpoint (Dispatcher not\n")
	w("  started), alternating call by call with a bare INSERT of the event's row (id, type, tenant,\n")
	w("  created_at, body, with a primary key and an index like outhook's events table) on a pool of its own;\n")
	w("  %d calls each after 30 of warm-up.\n", e.p.serial)
	w("- **Client CPU per delivery**: the PostgreSQL burn-down's process CPU time from `Start` to the last\n")
	w("  delivery, divided by the deliveries (receiver included); River tuned's the same way.\n")
	w("- **Isolation**: as the root module's `BenchmarkIsolation`, on memstore: 10 healthy endpoints and the\n")
	w("  broken ones, each in a tenant of its own, get one event each 100 times a second (1000 events/s to\n")
	w("  the healthy ones); RequestTimeout 1 s, retries after 50 ms, DisableAfter off. The figure is the\n")
	w("  healthy deliveries/s over %s after 2 s of warm-up; the baseline is the healthy endpoints alone.\n", e.p.isoWindow)
	w("  Misbehaving: 2 hanging, slowloris headers, an endless body, a reset, garbage bytes, 429 with\n")
	w("  Retry-After one hour.\n")
	// Unless it ran (with -quick it runs only when named), describe the
	// full mode's sizes.
	pp := fullParams
	if slices.ContainsFunc(rows, func(r row) bool { return r.section == "pg-pending" }) {
		pp = e.p
	}
	if s := pp.pendingSizes; len(s) >= 2 {
		w("- **Pending** (full mode; `-only pg-pending`): %s and then %s events to one endpoint are loaded\n", sizeText(s[0]), sizeText(s[len(s)-1]))
		w("  (%s), the tables get a VACUUM (ANALYZE) and a CHECKPOINT, and outhook delivers deliveries\n", loadHow(e))
		w("  from the head of the queue, timing up to %d windows of %d deliveries back to back (as many as the size\n", pp.pendingWins, pp.pendingK)
		w("  holds) and giving the median of those after the first (which includes the start): the first windows\n")
		w("  pay for the pool's new connections and for the server's backends touching shared\n")
		w("  buffers they have not touched before, a page fault per 4 KiB (see the machine's figure above), which\n")
		w("  lasts longer the larger the table. Per delivery: the wall time, the client CPU, the server's CPU\n")
		w("  (all its processes, from /proc, when it runs on this machine) and the server's execution time of\n")
		w("  the statements on outhook's tables (pg_stat_statements, which `scripts/with-postgres.sh` preloads;\n")
		w("  it leaves out a commit's wait for the WAL flush, and counts time spent waiting for a CPU). One run.\n")
	}
	return b.String()
}

// depVersion is the version of the module at path this binary was built
// with.
func depVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				if d.Replace != nil {
					d = d.Replace
				}
				return d.Version
			}
		}
	}
	return "(version unknown)"
}

func loadHow(e *env) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if h := e.info["loadHow"]; h != "" {
		return h
	}
	return "Publish from 8 goroutines, or PublishMany when the Dispatcher has it"
}

// svgChart draws the ratios as horizontal bars, a dashed line at 1×,
// and each target as a tick.
func svgChart(rows []row) string {
	var rs []row
	for _, r := range rows {
		if !math.IsNaN(r.ratio) && r.ratio > 0 {
			rs = append(rs, r)
		}
	}
	const (
		labelW = 430
		barW   = 400
		rowH   = 26
		top    = 56
		left   = 10
	)
	scale := 2.0
	for _, r := range rs {
		scale = max(scale, r.target*1.15, math.Min(r.ratio*1.1, 5))
	}
	scale = math.Ceil(scale*2) / 2
	x := func(v float64) float64 { return float64(left+labelW) + math.Min(v, scale)/scale*barW }
	height := top + rowH*len(rs) + 40
	width := left + labelW + barW + 130
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	w(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	w(`<text x="%d" y="20" font-size="15" font-weight="bold">outhook ÷ baseline, same run (higher is better for rates; ↓ rows: lower is better)</text>`+"\n", left)
	w(`<text x="%d" y="38" fill="#555">green: target met · red: not met · grey: no target · black tick: target · dashed: 1×</text>`+"\n", left)
	// grid
	for v := 0.0; v <= scale+1e-9; v += 0.5 {
		w(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e0e0e0"/>`+"\n", x(v), top-6, x(v), top+rowH*len(rs))
		w(`<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%g×</text>`+"\n", x(v), top+rowH*len(rs)+16, v)
	}
	for i, r := range rs {
		y := top + i*rowH
		color := "#78909c"
		if met, ok := r.met(); ok && met {
			color = "#2e7d32"
		} else if ok {
			color = "#c62828"
		}
		label := r.label
		if r.lowerBetter {
			label = "↓ " + label
		}
		w(`<text x="%d" y="%d">%s</text>`+"\n", left, y+15, xmlEscape(label))
		w(`<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", left+labelW, y+3, x(r.ratio)-float64(left+labelW), rowH-8, color)
		if r.target > 0 {
			w(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black" stroke-width="2"/>`+"\n", x(r.target), y+1, x(r.target), y+rowH-3)
		}
		text := strconv.FormatFloat(r.ratio, 'f', 2, 64) + "×"
		if r.ratio > scale {
			text += " (off scale)"
		}
		w(`<text x="%.1f" y="%d">%s</text>`+"\n", x(r.ratio)+6, y+15, text)
	}
	w(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333" stroke-dasharray="4 3"/>`+"\n", x(1), top-6, x(1), top+rowH*len(rs))
	w("</svg>\n")
	return b.String()
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
