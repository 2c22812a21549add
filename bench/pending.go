package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	webhook "github.com/outhook/webhook"
)

// benchPGPending: the cost per delivery with few and with many deliveries
// pending on PostgreSQL (e.p.pendingSizes: 10k and 1M in full mode): the
// wall time, the client CPU and the server's execution time of outhook's
// statements (pg_stat_statements, when the server preloads it) per
// delivery while outhook delivers the first e.p.pendingK of them from the
// head of the queue.
func benchPGPending(ctx context.Context, e *env) (figures, error) {
	f := figures{}
	for _, size := range e.p.pendingSizes {
		r, err := e.pg.pendingRun(ctx, e, size)
		if err != nil {
			return nil, fmt.Errorf("%d pending: %w", size, err)
		}
		k := "pending_" + strconv.Itoa(size)
		f[k+"_us"], f[k+"_cpu_us"], f[k+"_load/s"] = r.wallUs, r.cpuUs, r.loadPerSec
		if r.serverCPUUs >= 0 {
			f[k+"_server_cpu_us"] = r.serverCPUUs
			f[k+"_server_faults"] = r.serverFaults
		}
		if r.stats != nil {
			f[k+"_server_us"] = r.stats.statementUs(r.k * r.windows)
		}
	}
	return f, nil
}

// pendingResult is one size's run.
type pendingResult struct {
	k               int // deliveries timed in each window
	windows         int // back to back, from the same load
	each            []window
	wallUs, cpuUs   float64 // per delivery
	serverCPUUs     float64 // per delivery; -1 when /proc does not show the server
	serverFaults    float64 // minor page faults per delivery, with serverCPUUs
	loadPerSec      float64
	loadCPUUs       float64    // client CPU per event loaded
	loadServerCPUUs float64    // server CPU per event loaded; -1 unknown
	loadFaults      float64    // server page faults per event loaded, with loadServerCPUUs
	stats           *stmtStats // nil without pg_stat_statements
	loadStats       *stmtStats
}

func (p *pg) pendingRun(ctx context.Context, e *env, size int) (pendingResult, error) {
	var r pendingResult
	restore := p.trackStatements(ctx)
	defer restore()
	s, prefix, drop, err := p.outhookPrefixed(ctx)
	if err != nil {
		return r, err
	}
	defer drop()
	d, err := webhook.NewDispatcher(s, singleEndpointConfig(riverWorkers))
	if err != nil {
		return r, err
	}
	if err := createEndpoint(ctx, d, tenant, e.rcv.url); err != nil {
		return r, err
	}
	p.resetStatements(ctx)
	pm := p.postmasterPID(ctx)
	loadSrv0, loadSrvOK := serverUsage(pm)
	cpu0 := cpuTime()
	how, loadPerSec, err := loadEvents(ctx, d, "pend", size)
	if err != nil {
		return r, err
	}
	e.note("loadHow", how)
	r.loadPerSec, r.loadCPUUs = loadPerSec, micros(cpuTime()-cpu0)/float64(size)
	r.loadServerCPUUs = -1
	if srv, ok := serverUsage(pm); ok && loadSrvOK {
		r.loadServerCPUUs = micros(srv.cpu-loadSrv0.cpu) / float64(size)
		r.loadFaults = float64(srv.faults-loadSrv0.faults) / float64(size)
	}
	r.loadStats = p.readStatements(ctx, prefix)
	// VACUUM as well as ANALYZE: autovacuum would otherwise pick the
	// freshly loaded tables up at a moment of its choosing, perhaps
	// during the timing at one size and not at the other.
	if err := p.vacuumPrefix(ctx, prefix); err != nil {
		return r, err
	}
	p.checkpoint(ctx)
	stopped := false
	defer func() {
		if !stopped {
			shutdown(d)
		}
	}()
	r.k = min(e.p.pendingK, size)
	r.windows = max(1, min(e.p.pendingWins, size/r.k))
	p.resetStatements(ctx)
	if err := r.time(ctx, e, pm, func() error { return d.Start(ctx) }); err != nil {
		return r, err
	}
	r.stats = p.readStatements(ctx, prefix)
	r.print(size, p.statsWhyNot)
	if e.explain {
		shutdown(d)
		stopped = true
		fmt.Printf("\n  %s pending, after the timing: plans (auto_explain)\n", num(float64(size)))
		if err := p.explainClaimComplete(ctx, prefix, riverWorkers); err != nil {
			fmt.Println("    explain:", err)
		}
	}
	return r, nil
}

// window is one timed window's figures, per delivery.
type window struct {
	wallUs, cpuUs, serverCPUUs, serverFaults float64
	auxCPUUs, auxFaults                      float64 // of the server's: its auxiliary processes'
}

// time starts the burn-down and times r.windows windows of r.k
// deliveries back to back; the first includes the start. r's figures are
// the medians of the windows' after the first (of the first when it is
// the only one). The first windows pay for opening the
// pool's connections and for each server backend's first touch of the
// shared buffers it meets (a page fault per 4 KiB page: see
// pageFaultCost); with a large table that warm-up lasts several windows,
// after which the number pending is still the same give or take a few
// percent.
func (r *pendingResult) time(ctx context.Context, e *env, pm int, start func() error) error {
	base := e.rcv.count()
	cpu0, t0 := cpuTime(), time.Now()
	srv0, srvOK := serverUsage(pm)
	if err := start(); err != nil {
		return err
	}
	for w := 1; w <= r.windows; w++ {
		end, err := e.rcv.waitFor(ctx, base+int64(w*r.k), e.p.timeout)
		if err != nil {
			return err
		}
		cpu1 := cpuTime()
		srv1, ok := serverUsage(pm)
		k := float64(r.k)
		win := window{wallUs: micros(end.Sub(t0)) / k, cpuUs: micros(cpu1-cpu0) / k, serverCPUUs: -1}
		if ok && srvOK {
			win.serverCPUUs = micros(srv1.cpu-srv0.cpu) / k
			win.serverFaults = float64(srv1.faults-srv0.faults) / k
			win.auxCPUUs = micros(srv1.auxCPU-srv0.auxCPU) / k
			win.auxFaults = float64(srv1.auxFaults-srv0.auxFaults) / k
		}
		r.each = append(r.each, win)
		cpu0, t0, srv0, srvOK = cpu1, end, srv1, ok
	}
	timed := r.each
	if len(timed) > 1 {
		timed = timed[1:] // the first includes the start
	}
	pick := func(f func(window) float64) float64 {
		v := make([]float64, len(timed))
		for i, w := range timed {
			v[i] = f(w)
		}
		return median(v)
	}
	r.wallUs = pick(func(w window) float64 { return w.wallUs })
	r.cpuUs = pick(func(w window) float64 { return w.cpuUs })
	r.serverCPUUs = pick(func(w window) float64 { return w.serverCPUUs })
	r.serverFaults = pick(func(w window) float64 { return w.serverFaults })
	return nil
}

// vacuumPrefix runs VACUUM (ANALYZE) on every table whose name starts
// with prefix.
func (p *pg) vacuumPrefix(ctx context.Context, prefix string) error {
	rows, err := p.admin.QueryContext(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND left(table_name, length($1)) = $1`, prefix)
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, n := range names {
		if _, err := p.admin.ExecContext(ctx, "VACUUM (ANALYZE) "+pgx.Identifier{n}.Sanitize()); err != nil {
			return fmt.Errorf("vacuum %s: %w", n, err)
		}
	}
	return nil
}

// print shows one size's figures and the statements behind them on the
// console.
func (r pendingResult) print(size int, whyNot string) {
	fmt.Printf("\n  %s pending: loaded at %s events/s (%.0fs), %s µs client CPU per event",
		num(float64(size)), num(r.loadPerSec), float64(size)/r.loadPerSec, num(r.loadCPUUs))
	if r.loadServerCPUUs >= 0 {
		fmt.Printf(", %s µs server CPU, %.2f server page faults", num(r.loadServerCPUUs), r.loadFaults)
	}
	if r.loadStats != nil {
		fmt.Printf(", %s µs statements per event:\n%s", num(r.loadStats.totalMs*1000/float64(size)), r.loadStats.top(size, 4))
	} else {
		fmt.Println()
	}
	for i, w := range r.each {
		fmt.Printf("  window %d of %d deliveries: %s µs wall, %s µs client CPU", i+1, r.k, num(w.wallUs), num(w.cpuUs))
		if w.serverCPUUs >= 0 {
			fmt.Printf(", %s µs server CPU, %.2f server page faults (auxiliary processes: %s µs, %.2f)",
				num(w.serverCPUUs), w.serverFaults, num(w.auxCPUUs), w.auxFaults)
		}
		fmt.Println(" per delivery")
	}
	if len(r.each) > 1 {
		fmt.Printf("  median of windows 2 to %d: %s µs wall, %s µs client CPU", len(r.each), num(r.wallUs), num(r.cpuUs))
	} else {
		fmt.Printf("  %s µs wall, %s µs client CPU", num(r.wallUs), num(r.cpuUs))
	}
	if r.serverCPUUs >= 0 {
		fmt.Printf(", %s µs server CPU, %.2f server page faults", num(r.serverCPUUs), r.serverFaults)
	}
	if r.stats != nil {
		n := r.k * r.windows
		fmt.Printf("; all %d: %s µs statements (pg_stat_statements) per delivery:\n%s", n, num(r.stats.statementUs(n)), r.stats.top(n, 8))
	} else {
		fmt.Printf("; no server time (%s)\n", whyNot)
	}
}

// statementUs is the statements' execution time per item of k.
func (st *stmtStats) statementUs(k int) float64 { return st.totalMs * 1000 / float64(k) }
