package sqlstore

// CompleteBatch's fast path: a batch of successes on PostgreSQL.

import (
	"context"
	"time"

	webhook "github.com/outhook/webhook"
)

// completeSuccesses records a batch made only of successes, on PostgreSQL,
// in two statements and no explicit transaction: a read of the endpoints
// (which takes no lock), then one statement that marks the deliveries
// delivered (each guarded by its lease token, as in Complete), inserts
// their attempts and resets the counters of each endpoint whose failure
// count is not 0 or whose LastSuccessAt is SuccessGranularity old, all or
// nothing, committed with that statement. A success needs no lock on its
// endpoint's row: it sets the counters to values that do not depend on
// what they were, so it runs beside other batches rather than queueing
// for the row. A batch that does not qualify (another outcome, a delivery
// twice, more than batchChunk, an endpoint row that does not decode or is
// due a write, or SQLite) reports ok false and goes the general way.
func (s *Store) completeSuccesses(ctx context.Context, cs []webhook.Completion) (out []webhook.CompletionResult, ok bool, err error) {
	if s.dialect != Postgres || len(cs) == 0 || len(cs) > batchChunk {
		return nil, false, nil
	}
	ids := make([]string, len(cs))
	seen := make(map[string]bool, len(cs))
	for i, c := range cs {
		if c.Outcome != webhook.OutcomeSuccess || seen[c.DeliveryID] {
			return nil, false, nil
		}
		seen[c.DeliveryID] = true
		ids[i] = c.DeliveryID
	}
	owner, eps, err := s.batchEndpoints(ctx, s.db, ids, false)
	if err != nil {
		return nil, false, err
	}
	// Qualify only when no endpoint row is due a write: the common case
	// (an endpoint that keeps succeeding writes its row about once per
	// SuccessGranularity). The statement below still resets the counters
	// of an endpoint that failed meanwhile, but an endpoint already due a
	// write goes the general way, which locks its row first, as a disable
	// does, so the two never wait for each other in opposite orders.
	oldest := cs[0].Now
	for _, c := range cs {
		if c.Now.Before(oldest) {
			oldest = c.Now
		}
	}
	for _, be := range eps {
		if be.err != nil || be.ep.ConsecutiveFailures != 0 || be.ep.LastSuccessAt.IsZero() ||
			oldest.Sub(be.ep.LastSuccessAt) >= webhook.SuccessGranularity {
			return nil, false, nil
		}
	}

	// The batch's values go in as one array per column (pgArray), so the
	// statement's text is the same for every batch size: parsed and
	// planned once.
	var (
		dids, toks, aids, bodies, errs = make([]string, len(cs)), make([]string, len(cs)), make([]string, len(cs)), make([]string, len(cs)), make([]string, len(cs))
		ats, starteds, durs            = make([]int64, len(cs)), make([]int64, len(cs)), make([]int64, len(cs))
		nums, statuses                 = make([]int, len(cs)), make([]int, len(cs))
	)
	for i, c := range cs {
		a := webhook.Attempt{}
		if c.Attempt != nil {
			a = *c.Attempt
		}
		if a.ID == "" {
			a.ID = newID()
		}
		dids[i], toks[i], ats[i], aids[i], nums[i] = c.DeliveryID, c.Token, clampNanos(c.Now), a.ID, a.Number
		starteds[i], durs[i], statuses[i] = clampNanos(a.StartedAt), int64(a.Duration), a.StatusCode
		bodies[i], errs[i] = clean(a.ResponseBody, s.opts.ResponseExcerpt), clean(a.Error, 1024)
	}
	args := []any{pgArray(dids), pgArray(toks), pgIntArray(ats), pgArray(aids), pgIntArray(nums), pgIntArray(starteds),
		pgIntArray(durs), pgIntArray(statuses), pgArray(bodies), pgArray(errs),
		webhook.ReasonEndpointDisabled, int64(webhook.SuccessGranularity)}
	res, err := s.db.QueryContext(ctx, s.q(`WITH v AS (SELECT * FROM unnest(CAST(? AS text)::text[], CAST(? AS text)::text[],
			CAST(? AS text)::bigint[], CAST(? AS text)::text[], CAST(? AS text)::int[], CAST(? AS text)::bigint[],
			CAST(? AS text)::bigint[], CAST(? AS text)::int[], CAST(? AS text)::text[], CAST(? AS text)::text[])
			AS v (did, tok, at, aid, num, started, dur, status, body, err)),
		s AS (UPDATE {p}deliveries d SET state = 'succeeded', attempts = d.attempts + 1, claim_token = NULL,
				last_error = '', updated_at = v.at
			FROM v WHERE d.id = v.did AND d.claim_token = v.tok
				AND (d.state = 'pending' OR (d.state = 'failed' AND d.last_error = ?))
			RETURNING d.id, d.event_id, d.endpoint_id, d.attempts),
		a AS (INSERT INTO {p}attempts (id, delivery_id, event_id, endpoint_id, number, started_at, duration_ns,
				status_code, response_body, error, success)
			SELECT v.aid, s.id, s.event_id, s.endpoint_id, CASE WHEN v.num > 0 THEN v.num ELSE s.attempts END,
				v.started, v.dur, v.status, v.body, v.err, 1
			FROM v JOIN s ON s.id = v.did),
		m AS (SELECT s.endpoint_id, max(v.at) AS at FROM s JOIN v ON v.did = s.id GROUP BY s.endpoint_id),
		e AS (UPDATE {p}endpoints ep SET consecutive_failures = 0, last_success_at = m.at
			FROM m WHERE ep.id = m.endpoint_id AND (ep.consecutive_failures <> 0 OR ep.last_success_at IS NULL
				OR ep.last_success_at <= m.at - ?)
			RETURNING ep.id, m.at)
		SELECT s.id, e.at FROM s LEFT JOIN e ON e.id = s.endpoint_id`), args...)
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, err
		}
		// The statement wrote nothing (it is all or nothing): a deadlock
		// with a disable that raced it, say. The general way retries it.
		s.opts.Logger.DebugContext(ctx, "sqlstore: complete batch: successes statement failed; recording them one transaction", "err", err)
		return nil, false, nil
	}
	defer res.Close()
	applied := make(map[string]bool, len(cs))
	reset := map[string]time.Time{} // endpoint ID: the LastSuccessAt the statement wrote
	for res.Next() {
		var id string
		var at *int64
		if err := res.Scan(&id, &at); err != nil {
			return nil, false, err
		}
		applied[id] = true
		if at != nil {
			reset[owner[id]] = time.Unix(0, *at).UTC()
		}
	}
	if err := res.Err(); err != nil {
		return nil, false, err
	}
	// The results of one endpoint share one copy of it, as it stands after
	// the batch.
	after := make(map[string]*webhook.Endpoint, len(eps))
	out = make([]webhook.CompletionResult, len(cs))
	for i, c := range cs {
		epID := owner[c.DeliveryID]
		if !applied[c.DeliveryID] || eps[epID] == nil {
			out[i].Err = webhook.ErrLeaseLost
			continue
		}
		ep := after[epID]
		if ep == nil {
			ep = eps[epID].ep
			if at, ok := reset[epID]; ok {
				ep.ConsecutiveFailures, ep.LastSuccessAt = 0, at
			}
			after[epID] = ep
		}
		out[i].Endpoint = ep
	}
	return out, true, nil
}
