package main

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// pg_stat_statements, when the server preloads it
// (scripts/with-postgres.sh does, with tracking off by default): the
// server's execution time of outhook's statements during a timing.

// stmt is one pg_stat_statements entry.
type stmt struct {
	query       string
	calls, rows int64
	ms          float64 // total execution time
	hit, read   int64   // shared blocks
}

// stmtStats is what the server ran on outhook's tables during a timing,
// slowest in all first, and its COMMITs.
type stmtStats struct {
	stmts    []stmt
	totalMs  float64 // the statements on outhook's tables
	commits  int64
	commitMs float64
}

// trackStatements turns pg_stat_statements' tracking on for the sessions
// opened from now on in this database (ALTER DATABASE … SET, which
// overrides the server's command line) and returns the function that
// turns it back. Without the module preloaded it records why in
// p.statsWhyNot and does nothing.
func (p *pg) trackStatements(ctx context.Context) (restore func()) {
	p.statsOn = false
	var libs string
	if err := p.admin.QueryRowContext(ctx, "SHOW shared_preload_libraries").Scan(&libs); err != nil || !strings.Contains(libs, "pg_stat_statements") {
		p.statsWhyNot = "the server does not preload pg_stat_statements"
		return func() {}
	}
	if _, err := p.admin.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		p.statsWhyNot = "CREATE EXTENSION pg_stat_statements: " + err.Error()
		return func() {}
	}
	var db string
	if err := p.admin.QueryRowContext(ctx, "SELECT current_database()").Scan(&db); err != nil {
		p.statsWhyNot = err.Error()
		return func() {}
	}
	alter := "ALTER DATABASE " + pgx.Identifier{db}.Sanitize()
	if _, err := p.admin.ExecContext(ctx, alter+" SET pg_stat_statements.track = 'top'"); err != nil {
		p.statsWhyNot = "turning pg_stat_statements.track on: " + err.Error()
		return func() {}
	}
	p.statsOn = true
	return func() {
		_, _ = p.admin.ExecContext(context.Background(), alter+" RESET pg_stat_statements.track")
		p.statsOn = false
	}
}

// resetStatements empties pg_stat_statements.
func (p *pg) resetStatements(ctx context.Context) {
	if p.statsOn {
		if _, err := p.admin.ExecContext(ctx, "SELECT pg_stat_statements_reset()"); err != nil {
			p.statsOn, p.statsWhyNot = false, "pg_stat_statements_reset: "+err.Error()
		}
	}
}

// readStatements reads what the server ran since resetStatements on the
// tables named prefix…, in this database. Nil when tracking is off.
func (p *pg) readStatements(ctx context.Context, prefix string) *stmtStats {
	if !p.statsOn {
		return nil
	}
	rows, err := p.admin.QueryContext(ctx, `SELECT query, calls, rows, total_exec_time, shared_blks_hit, shared_blks_read
		FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND strpos(query, $1) > 0
		ORDER BY total_exec_time DESC`, prefix)
	if err != nil {
		p.statsWhyNot = "reading pg_stat_statements: " + err.Error()
		return nil
	}
	defer rows.Close()
	st := &stmtStats{}
	for rows.Next() {
		var s stmt
		if err := rows.Scan(&s.query, &s.calls, &s.rows, &s.ms, &s.hit, &s.read); err != nil {
			p.statsWhyNot = "reading pg_stat_statements: " + err.Error()
			return nil
		}
		st.totalMs += s.ms
		st.stmts = append(st.stmts, s)
	}
	if rows.Err() != nil {
		p.statsWhyNot = "reading pg_stat_statements: " + rows.Err().Error()
		return nil
	}
	st.stmts = mergeShapes(st.stmts)
	return st
}

var (
	paramRE  = regexp.MustCompile(`\$\d+`)
	tupleRE  = regexp.MustCompile(`\([?, ]+\)(, \([?, ]+\))+`)
	listRE   = regexp.MustCompile(`\?(, \?)+`)
	whenRE   = regexp.MustCompile(`(WHEN \? THEN CAST\(\? AS BIGINT\) )+`)
	spacesRE = regexp.MustCompile(`\s+`)
)

// mergeShapes adds up the entries that differ only in the length of an
// IN list or a VALUES list (one pg_stat_statements entry for each
// length), slowest in all first.
func mergeShapes(in []stmt) []stmt {
	byShape := map[string]*stmt{}
	var order []string
	for _, s := range in {
		q := spacesRE.ReplaceAllString(s.query, " ")
		q = paramRE.ReplaceAllString(q, "?")
		q = whenRE.ReplaceAllString(q, "WHEN … ")
		q = tupleRE.ReplaceAllString(q, "(…), …")
		q = listRE.ReplaceAllString(q, "…")
		m, ok := byShape[q]
		if !ok {
			m = &stmt{query: q}
			byShape[q] = m
			order = append(order, q)
		}
		m.calls += s.calls
		m.rows += s.rows
		m.ms += s.ms
		m.hit += s.hit
		m.read += s.read
	}
	out := make([]stmt, 0, len(order))
	for _, q := range order {
		out = append(out, *byShape[q])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ms > out[j].ms })
	return out
}

// top lists the n statements that took the most time, per item of k (a
// delivery, an event loaded), one a line, for the console.
func (st *stmtStats) top(k, n int) string {
	var b strings.Builder
	for i, s := range st.stmts {
		if i == n {
			break
		}
		q := strings.Join(strings.Fields(s.query), " ")
		if len(q) > 160 {
			q = q[:160] + "…"
		}
		fmt.Fprintf(&b, "    %6.1f µs/item  %6d calls  %7.3f ms/call  %6.1f blocks/call (%.1f read)  %s\n",
			s.ms*1000/float64(k), s.calls, s.ms/float64(max(s.calls, 1)), float64(s.hit+s.read)/float64(max(s.calls, 1)),
			float64(s.read)/float64(max(s.calls, 1)), q)
	}
	return b.String()
}
