package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	webhook "github.com/outhook/webhook"
)

// batchChunk bounds the rows of one IN list or multi-row INSERT, well
// inside SQLite's limit on bound variables.
const batchChunk = 256

// batchEndpoint is one endpoint of a batch as the batch has left it so far.
type batchEndpoint struct {
	ep    *webhook.Endpoint
	err   error // the row does not decode: its completions fail with it
	dirty bool  // counters changed: write the row at the end
}

// CompleteBatch implements webhook.BatchCompleter in one transaction:
//
//  1. read which endpoint each delivery belongs to (one statement);
//  2. lock those endpoint rows once, in id order (SELECT … ORDER BY id FOR
//     UPDATE on PostgreSQL, so two batches never deadlock; SQLite's BEGIN
//     IMMEDIATE already serialises writers), and read their counters;
//  3. mark delivered the deliveries of all its successes in one UPDATE
//     (guarded by each lease token, as in Complete);
//  4. apply the completions in order: one guarded UPDATE of the delivery
//     for each retry and failure, the endpoint's
//     counters kept in memory, a disable done at once when a failure
//     reaches the threshold (so the rest of the batch sees it exactly as a
//     sequence of Completes would);
//  5. insert the attempts with multi-row INSERTs, and write each endpoint
//     row whose counters changed once.
//
// A success changes the endpoint row only when its ConsecutiveFailures is
// not 0 or its LastSuccessAt is webhook.SuccessGranularity or more older
// than the completion's Now. A batch of n completions, s of them
// successes, over e endpoints runs n - s + 4 + e statements (at most; an
// endpoint row whose counters did not change is not written) and one
// commit, against 4 or 5 statements and a commit per Complete. On
// PostgreSQL a batch made only of successes whose endpoints need no write
// is cheaper still: one read and one statement, no explicit transaction
// (completeSuccesses).
func (s *Store) CompleteBatch(ctx context.Context, cs []webhook.Completion) ([]webhook.CompletionResult, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	if out, ok, err := s.completeSuccesses(ctx, cs); ok || err != nil {
		if err != nil {
			return nil, fmt.Errorf("sqlstore: complete batch: %w", err)
		}
		return out, nil
	}
	var out []webhook.CompletionResult
	err := s.inTx(ctx, func(tx querier) error {
		var err error
		out, err = s.completeBatch(ctx, tx, cs)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: complete batch: %w", err)
	}
	return out, nil
}

func (s *Store) completeBatch(ctx context.Context, tx querier, cs []webhook.Completion) ([]webhook.CompletionResult, error) {
	// 1 and 2. The endpoint of each delivery, locked.
	ids := make([]string, 0, len(cs))
	for _, c := range cs {
		ids = append(ids, c.DeliveryID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	owner, eps, err := s.lockBatchEndpoints(ctx, tx, ids)
	if err != nil {
		return nil, err
	}

	// 3. The successes first, in one statement: whether a success applies
	// does not depend on what comes before it in the batch (a disable ends
	// the delivery in a way a success still overrides), so running them
	// first leaves the rows as the sequence would, provided no delivery
	// occurs twice.
	done, err := s.succeedMany(ctx, tx, cs, owner, eps)
	if err != nil {
		return nil, err
	}

	// 4. Apply the rest in order, and every endpoint's counters.
	out := make([]webhook.CompletionResult, len(cs))
	var attempts []any // rows of 11 values
	for i, c := range cs {
		switch c.Outcome {
		case webhook.OutcomeSuccess, webhook.OutcomeRetry, webhook.OutcomeFail:
		default:
			out[i].Err = &webhook.ValidationError{Field: "Outcome", Reason: fmt.Sprintf("unknown outcome %d", c.Outcome)}
			continue
		}
		be := eps[owner[c.DeliveryID]]
		if be == nil {
			out[i].Err = webhook.ErrLeaseLost // the delivery or its endpoint is gone
			continue
		}
		if be.err != nil {
			out[i].Err = be.err
			continue
		}
		pre, ok := done[i]
		if !ok && c.Outcome == webhook.OutcomeSuccess && done != nil {
			if _, tried := done[-1-i]; tried {
				out[i].Err = webhook.ErrLeaseLost // its UPDATE matched nothing
				continue
			}
		}
		var prep *applied
		if ok {
			prep = &pre
		}
		row, err := s.completeOne(ctx, tx, be, c, prep, &out[i])
		if err != nil {
			return nil, err
		}
		attempts = append(attempts, row...)
	}

	// 5. The attempts and the endpoint rows.
	const cols = 11
	for len(attempts) > 0 {
		n := min(len(attempts)/cols, batchChunk)
		rows := strings.TrimSuffix(strings.Repeat("("+placeholders(cols)+"), ", n), ", ")
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO {p}attempts (id, delivery_id, event_id, endpoint_id, number, started_at,
			duration_ns, status_code, response_body, error, success) VALUES `+rows), attempts[:n*cols]...); err != nil {
			return nil, err
		}
		attempts = attempts[n*cols:]
	}
	epIDs := make([]string, 0, len(eps))
	for id := range eps {
		epIDs = append(epIDs, id)
	}
	slices.Sort(epIDs)
	for _, id := range epIDs {
		be := eps[id]
		if be == nil || !be.dirty {
			continue
		}
		ep := be.ep
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE {p}endpoints SET consecutive_failures = ?, last_success_at = ?,
			last_failure_at = ?, last_failure_reason = ? WHERE id = ?`),
			ep.ConsecutiveFailures, nullNanos(ep.LastSuccessAt), nullNanos(ep.LastFailureAt), ep.LastFailureReason, id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// completeOne applies one completion of a batch to its delivery and to the
// endpoint in memory, filling res; it returns the attempt's row to insert,
// or none when the completion recorded nothing.
func (s *Store) completeOne(ctx context.Context, tx querier, be *batchEndpoint, c webhook.Completion, pre *applied, res *webhook.CompletionResult) ([]any, error) {
	ep := be.ep
	now := clampNanos(c.Now)
	if ep.Disabled && c.Outcome != webhook.OutcomeSuccess {
		// As in complete: end it the way the disable would have and count
		// nothing.
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE {p}deliveries SET state = 'failed', last_error = ?, claim_token = NULL,
			updated_at = ? WHERE id = ? AND claim_token = ? AND state = 'pending'`),
			webhook.ReasonEndpointDisabled, now, c.DeliveryID, c.Token); err != nil {
			return nil, err
		}
		res.Err = webhook.ErrLeaseLost
		return nil, nil
	}
	a := webhook.Attempt{}
	if c.Attempt != nil {
		a = *c.Attempt
	}
	reason := clean(a.Error, 1024)
	var (
		query string
		args  []any
	)
	switch c.Outcome {
	case webhook.OutcomeSuccess:
		query = `UPDATE {p}deliveries SET state = 'succeeded', attempts = attempts + 1,
			claim_token = NULL, last_error = '', updated_at = ? WHERE id = ? AND claim_token = ?
			AND (state = 'pending' OR (state = 'failed' AND last_error = ?))`
		args = []any{now, c.DeliveryID, c.Token, webhook.ReasonEndpointDisabled}
	case webhook.OutcomeRetry:
		at := clampNanos(c.RetryAt)
		query = `UPDATE {p}deliveries SET attempts = attempts + 1, next_attempt_at = ?, due_at = ?,
			claim_token = NULL, leased_until = NULL, last_error = ?, updated_at = ? WHERE id = ? AND claim_token = ? AND state = 'pending'`
		args = []any{at, at, reason, now, c.DeliveryID, c.Token}
	default:
		query = `UPDATE {p}deliveries SET state = 'failed', attempts = attempts + 1,
			claim_token = NULL, last_error = ?, updated_at = ? WHERE id = ? AND claim_token = ? AND state = 'pending'`
		args = []any{reason, now, c.DeliveryID, c.Token}
	}
	var (
		eventID string
		number  int
	)
	if pre != nil {
		eventID, number = pre.eventID, pre.attempts
	} else {
		err := tx.QueryRowContext(ctx, s.q(query+` RETURNING event_id, attempts`), args...).Scan(&eventID, &number)
		if errors.Is(err, sql.ErrNoRows) {
			res.Err = webhook.ErrLeaseLost
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	if a.ID == "" {
		a.ID = newID()
	}
	if a.Number == 0 {
		a.Number = number
	}
	row := []any{a.ID, c.DeliveryID, eventID, ep.ID, a.Number, clampNanos(a.StartedAt), int64(a.Duration), a.StatusCode,
		clean(a.ResponseBody, s.opts.ResponseExcerpt), reason, boolInt(c.Outcome == webhook.OutcomeSuccess)}

	at := time.Unix(0, now).UTC()
	switch c.Outcome {
	case webhook.OutcomeSuccess:
		if ep.ConsecutiveFailures != 0 || ep.LastSuccessAt.IsZero() || at.Sub(ep.LastSuccessAt) >= webhook.SuccessGranularity {
			ep.ConsecutiveFailures = 0
			ep.LastSuccessAt = at
			be.dirty = true
		}
	case webhook.OutcomeRetry:
		ep.LastFailureAt, ep.LastFailureReason, be.dirty = at, reason, true
	case webhook.OutcomeFail:
		ep.ConsecutiveFailures++
		ep.LastFailureAt, ep.LastFailureReason, be.dirty = at, reason, true
		why := c.DisableReason
		if why == "" && c.DisableAfter > 0 && ep.ConsecutiveFailures >= c.DisableAfter {
			why = fmt.Sprintf("%d consecutive failed deliveries; last: %s", ep.ConsecutiveFailures, reason)
		}
		if why != "" {
			if err := s.disable(ctx, tx, ep.ID, why, c.Now); err != nil {
				return nil, err
			}
			ep.Disabled, ep.DisabledReason, ep.DisabledAt = true, why, at
			res.Disabled = true
		}
	}
	res.Endpoint = ep.Clone()
	return row, nil
}

// applied is what the UPDATE of a delivery returned.
type applied struct {
	eventID  string
	attempts int
}

// succeedMany marks delivered, in multi-row UPDATEs, the deliveries of the
// batch's successes whose delivery occurs once in the batch and whose
// endpoint was read. It returns, by index in cs, what each UPDATE
// returned; an index tried that matched nothing (the lease was lost) is
// recorded as the key -1-i. A nil map means no success was tried.
func (s *Store) succeedMany(ctx context.Context, tx querier, cs []webhook.Completion, owner map[string]string, eps map[string]*batchEndpoint) (map[int]applied, error) {
	count := make(map[string]int, len(cs))
	for _, c := range cs {
		count[c.DeliveryID]++
	}
	var idx []int
	for i, c := range cs {
		if be := eps[owner[c.DeliveryID]]; c.Outcome == webhook.OutcomeSuccess && count[c.DeliveryID] == 1 && be != nil && be.err == nil {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil, nil
	}
	done := make(map[int]applied, 2*len(idx))
	byID := make(map[string]int, len(idx))
	for len(idx) > 0 {
		n := min(len(idx), batchChunk)
		if s.dialect == SQLite {
			if err := s.succeedLite(ctx, tx, cs, idx[:n], done); err != nil {
				return nil, err
			}
			idx = idx[n:]
			continue
		}
		// One array per column (pgArray): one statement text for every
		// batch size.
		dids, toks, ats := make([]string, n), make([]string, n), make([]int64, n)
		for k, i := range idx[:n] {
			dids[k], toks[k], ats[k] = cs[i].DeliveryID, cs[i].Token, clampNanos(cs[i].Now)
			byID[cs[i].DeliveryID] = i
			done[-1-i] = applied{}
		}
		rows, err := tx.QueryContext(ctx, s.q(`UPDATE {p}deliveries d SET state = 'succeeded', attempts = d.attempts + 1,
			claim_token = NULL, last_error = '', updated_at = v.at
			FROM unnest(CAST(? AS text)::text[], CAST(? AS text)::text[], CAST(? AS text)::bigint[]) AS v (did, tok, at)
			WHERE d.id = v.did AND d.claim_token = v.tok
			AND (d.state = 'pending' OR (d.state = 'failed' AND d.last_error = ?)) RETURNING d.id, d.event_id, d.attempts`),
			pgArray(dids), pgArray(toks), pgIntArray(ats), webhook.ReasonEndpointDisabled)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			var a applied
			if err := rows.Scan(&id, &a.eventID, &a.attempts); err != nil {
				rows.Close()
				return nil, err
			}
			done[byID[id]] = a
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		idx = idx[n:]
	}
	return done, nil
}

// queryIn runs query with "%s" replaced by placeholders for ids, in chunks
// of batchChunk, calling each for every row. The ids are bound first, then
// after: a query's placeholders after the IN list.
func (s *Store) queryIn(ctx context.Context, tx querier, query string, ids []string, each func(*sql.Rows) error, after ...any) error {
	return s.queryInArgs(ctx, tx, query, nil, ids, each, after...)
}

// queryInArgs is queryIn with before bound ahead of the ids: a query's
// placeholders before the IN list.
func (s *Store) queryInArgs(ctx context.Context, tx querier, query string, before []any, ids []string, each func(*sql.Rows) error, after ...any) error {
	for len(ids) > 0 {
		n := min(len(ids), batchChunk)
		text, in := s.liteIn(query, ids[:n])
		args := make([]any, 0, len(before)+len(in)+len(after))
		args = append(append(append(args, before...), in...), after...)
		rows, err := tx.QueryContext(ctx, s.q(text), args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := each(rows); err != nil {
				rows.Close()
				return err
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// nullNanos is t as a nullable nanosecond column: NULL for the zero time.
func nullNanos(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: clampNanos(t), Valid: true}
}

// lockBatchEndpoints reads which endpoint each delivery ids belongs to,
// and locks and reads those endpoints, in id order. On PostgreSQL, for a
// batch that fits one statement, it is one statement: each endpoint row
// with the IDs of its deliveries, the rows locked in the order they are
// sorted in. Otherwise (and on SQLite, whose BEGIN IMMEDIATE already holds
// the write lock) it is two: the owners, then the endpoints.
func (s *Store) lockBatchEndpoints(ctx context.Context, tx querier, ids []string) (owner map[string]string, eps map[string]*batchEndpoint, err error) {
	return s.batchEndpoints(ctx, tx, ids, true)
}

// batchEndpoints is lockBatchEndpoints, locking the endpoint rows only if
// lock is set.
func (s *Store) batchEndpoints(ctx context.Context, tx querier, ids []string, lock bool) (owner map[string]string, eps map[string]*batchEndpoint, err error) {
	owner = make(map[string]string, len(ids))
	eps = make(map[string]*batchEndpoint)
	// scanEp reads one endpoint row, then extra; a row that does not
	// decode is kept with its error. It returns the endpoint's ID.
	scanEp := func(r scanner, extra ...any) (string, error) {
		ep, err := scanEndpoint(r, extra...)
		var bad *corruptEndpointError
		if errors.As(err, &bad) {
			eps[bad.id] = &batchEndpoint{err: err}
			return bad.id, nil
		}
		if err != nil {
			return "", err
		}
		eps[ep.ID] = &batchEndpoint{ep: ep}
		return ep.ID, nil
	}
	if s.dialect == Postgres && len(ids) <= batchChunk {
		// The batch's deliveries are looked up once, by primary key, in a
		// materialized CTE: a subquery per endpoint filtered on
		// endpoint_id could be planned as a scan of the endpoint's whole
		// backlog. Each ID is looked up on its own, by a LATERAL
		// subquery that its LIMIT keeps from being flattened into a join:
		// as a join or an IN list, the planner, knowing the array's 100
		// IDs, read the whole table instead whenever it held fewer than
		// some 15,000 rows (1 to 10 ms at 10,000 rows, against 0.2 to 0.6
		// ms through the index).
		rows, err := tx.QueryContext(ctx, s.q(`WITH b AS MATERIALIZED (SELECT d.id, d.endpoint_id
				FROM unnest(CAST(? AS text)::text[]) AS u (id)
				CROSS JOIN LATERAL (SELECT id, endpoint_id FROM {p}deliveries WHERE id = u.id LIMIT 1) d)
			SELECT `+endpointColumns+`, (SELECT string_agg(b.id, ',') FROM b WHERE b.endpoint_id = e.id)
			FROM {p}endpoints e WHERE e.id IN (SELECT endpoint_id FROM b)
			ORDER BY e.id`+map[bool]string{true: " FOR UPDATE OF e"}[lock]), pgArray(ids))
		if err != nil {
			return nil, nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var mine string
			epID, err := scanEp(rows, &mine)
			if err != nil {
				return nil, nil, err
			}
			for _, id := range strings.Split(mine, ",") {
				owner[id] = epID
			}
		}
		return owner, eps, rows.Err()
	}
	if err := s.queryIn(ctx, tx, `SELECT id, endpoint_id FROM {p}deliveries WHERE id IN (%s)`, ids, func(r *sql.Rows) error {
		var id, ep string
		if err := r.Scan(&id, &ep); err != nil {
			return err
		}
		owner[id] = ep
		return nil
	}); err != nil {
		return nil, nil, err
	}
	epIDs := make([]string, 0, len(owner))
	for _, ep := range owner {
		epIDs = append(epIDs, ep)
	}
	slices.Sort(epIDs)
	epIDs = slices.Compact(epIDs)
	if len(epIDs) == 0 {
		return owner, eps, nil
	}
	err = s.queryIn(ctx, tx, `SELECT `+endpointColumns+` FROM {p}endpoints WHERE id IN (%s) ORDER BY id`+s.dia.forUpdate(""), epIDs, func(r *sql.Rows) error {
		_, err := scanEp(r)
		return err
	})
	return owner, eps, err
}

var _ webhook.BatchCompleter = (*Store)(nil)
