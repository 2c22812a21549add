package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
)

// explainClaimComplete prints the plans, with EXPLAIN (ANALYZE, BUFFERS)
// figures, of every statement of one Claim of limit deliveries and of the
// CompleteBatch of their successes, run by a Store of its own on the
// tables named prefix (the Dispatcher stopped): auto_explain, loaded into
// that Store's one session, sends each plan back as a notice. The
// statements are sqlstore's own, whatever they are today. It needs a
// superuser (LOAD) and auto_explain installed.
func (p *pg) explainClaimComplete(ctx context.Context, prefix string, limit int) error {
	cfg, err := pgx.ParseConfig(p.url)
	if err != nil {
		return err
	}
	var printing atomic.Bool
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		if printing.Load() {
			fmt.Println(indentPlan(n.Message))
		}
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	db.SetMaxOpenConns(1) // one session: the one auto_explain is loaded in
	db.SetMaxIdleConns(1)
	for _, q := range []string{
		"LOAD 'auto_explain'",
		"SET auto_explain.log_min_duration = 0",
		"SET auto_explain.log_analyze = on",
		"SET auto_explain.log_buffers = on",
		"SET auto_explain.log_wal = on",
		"SET auto_explain.log_level = notice",
		"SET client_min_messages = notice",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	if err := p.printSizes(ctx, prefix); err != nil {
		return err
	}
	s, err := sqlstore.Open(ctx, db, sqlstore.Postgres, &sqlstore.Options{TablePrefix: prefix})
	if err != nil {
		return err
	}
	now := time.Now()
	fmt.Printf("    -- one Claim, Limit %d:\n", limit)
	printing.Store(true)
	claims, err := s.Claim(ctx, webhook.ClaimParams{Now: now, Lease: time.Minute, Limit: limit, MaxPerEndpoint: riverWorkers, InFlight: map[string]int{}})
	printing.Store(false)
	if err != nil {
		return fmt.Errorf("claim: %w", err)
	}
	cs := make([]webhook.Completion, 0, len(claims))
	for _, c := range claims {
		cs = append(cs, webhook.Completion{
			DeliveryID: c.Delivery.ID, Token: c.Token, Outcome: webhook.OutcomeSuccess, Now: now.Add(time.Millisecond),
			Attempt: &webhook.Attempt{ID: randomID(), DeliveryID: c.Delivery.ID, EventID: c.Delivery.EventID, EndpointID: c.Endpoint.ID,
				Number: c.Delivery.Attempts + 1, StartedAt: now, Duration: time.Millisecond, StatusCode: 204, Success: true},
		})
	}
	fmt.Printf("    -- the CompleteBatch of its %d successes:\n", len(cs))
	printing.Store(true)
	_, err = s.CompleteBatch(ctx, cs)
	printing.Store(false)
	if err != nil {
		return fmt.Errorf("complete batch: %w", err)
	}
	return nil
}

// indentPlan indents auto_explain's message for the console, shortening
// its long lines (IN lists of a hundred IDs).
func indentPlan(m string) string {
	lines := strings.Split(strings.TrimRight(m, "\n"), "\n")
	for i, l := range lines {
		if len(l) > 200 {
			l = l[:200] + "…"
		}
		lines[i] = "      " + l
	}
	return strings.Join(lines, "\n")
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// printSizes prints shared_buffers and the size of each table and index
// named prefix…, largest first: whether the working set fits the cache.
func (p *pg) printSizes(ctx context.Context, prefix string) error {
	var sb string
	if err := p.admin.QueryRowContext(ctx, "SHOW shared_buffers").Scan(&sb); err != nil {
		return err
	}
	rows, err := p.admin.QueryContext(ctx, `SELECT c.relname, c.relkind, pg_relation_size(c.oid)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND left(c.relname, length($1)) = $1 AND c.relkind IN ('r', 'i')
		ORDER BY 3 DESC`, prefix)
	if err != nil {
		return err
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var name, kind string
		var size int64
		if err := rows.Scan(&name, &kind, &size); err != nil {
			return err
		}
		if size >= 1<<20 {
			parts = append(parts, fmt.Sprintf("%s %d MB", strings.TrimPrefix(name, prefix), size>>20))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	fmt.Printf("    shared_buffers %s; relations of 1 MB or more: %s\n", sb, strings.Join(parts, ", "))
	return nil
}
