package sqlstore

// The rate-limit budget shared by every Dispatcher on the database
// (webhook.SharedRateStore): Claim's token step.

import (
	"context"
	"database/sql"
	"strings"
	"time"

	webhook "github.com/outhook/webhook"
)

var _ webhook.SharedRateStore = (*Store)(nil)

// SharesRateLimits implements webhook.SharedRateStore. Each endpoint's
// bucket is the endpoints.rate_tat column (schema version 8): Claim takes
// a token from it, with webhook.TakeRateToken, for every delivery of a
// rate-limited endpoint it hands out, in the claim's transaction. On
// PostgreSQL the endpoint rows are locked for that (FOR NO KEY UPDATE SKIP
// LOCKED): a Claim that finds a rate-limited endpoint's row held by
// another (claiming or recording a failure for it) leaves that endpoint's
// deliveries for a later Claim rather than wait. On SQLite the write lock
// serialises Claims. Unlimited endpoints' rows are not written.
func (s *Store) SharesRateLimits() {}

// rateCand is a due delivery of a rate-limited endpoint that Claim would
// hand out if the endpoint's bucket has a token for it.
type rateCand struct {
	id, endpoint string
	limit        webhook.RateLimit // in force: the endpoint's, or ClaimParams.RateLimit
}

// rateLimitIn is the limit in force for an endpoint whose own is
// (perSecond, burst), by p.
func rateLimitIn(p webhook.ClaimParams, perSecond float64, burst int) webhook.RateLimit {
	return p.RateLimitOf(&webhook.Endpoint{RateLimit: webhook.RateLimit{PerSecond: perSecond, Burst: burst}})
}

// takeTokens takes a token of its endpoint's bucket for each of cands, in
// their order, at now with the horizon ahead, and stores the buckets'
// new state. It returns the candidates granted one and records in
// notBefore those whose token is due after now.
func (s *Store) takeTokens(ctx context.Context, tx querier, cands []rateCand, now time.Time, ahead time.Duration, notBefore map[string]time.Time) ([]rateCand, error) {
	var eps []string
	seen := map[string]bool{}
	for _, c := range cands {
		if !seen[c.endpoint] {
			seen[c.endpoint] = true
			eps = append(eps, c.endpoint)
		}
	}
	lock := ""
	if s.dia.locksRows() {
		lock = ` FOR NO KEY UPDATE SKIP LOCKED`
	}
	tat := map[string]time.Time{} // the endpoints this Claim may take from
	if err := s.queryIn(ctx, tx, `SELECT id, rate_tat FROM {p}endpoints WHERE id IN (%s)`+lock, eps,
		func(r *sql.Rows) error {
			var id string
			var ns int64
			if err := r.Scan(&id, &ns); err != nil {
				return err
			}
			tat[id] = time.Time{}
			if ns != 0 {
				tat[id] = time.Unix(0, ns)
			}
			return nil
		}); err != nil {
		return nil, err
	}
	var granted []rateCand
	changed := map[string]bool{}
	for _, c := range cands {
		t, ok := tat[c.endpoint]
		if !ok {
			continue // locked by another transaction, or gone
		}
		due, after, ok := webhook.TakeRateToken(c.limit, t, now, ahead)
		if !ok {
			continue
		}
		tat[c.endpoint], changed[c.endpoint] = after, true
		if due.After(now) {
			notBefore[c.id] = due
		}
		granted = append(granted, c)
	}
	if len(changed) == 0 {
		return granted, nil
	}
	// One statement for every endpoint whose bucket moved.
	var set strings.Builder
	args := make([]any, 0, 3*len(changed))
	ids := make([]string, 0, len(changed))
	set.WriteString(`UPDATE {p}endpoints SET rate_tat = CASE id`)
	for _, ep := range eps {
		if changed[ep] {
			set.WriteString(` WHEN ? THEN ?`)
			args = append(args, ep, tat[ep].UnixNano())
			ids = append(ids, ep)
		}
	}
	in, list := s.inList(ids)
	set.WriteString(` ELSE rate_tat END WHERE id IN (` + in + `)`)
	if _, err := tx.ExecContext(ctx, s.q(set.String()), append(args, list...)...); err != nil {
		return nil, err
	}
	return granted, nil
}
