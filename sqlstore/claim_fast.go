package sqlstore

// Claim's fast way on PostgreSQL: one statement for the common case.

import (
	"cmp"
	"context"
	"maps"
	"math"
	"slices"
	"time"

	webhook "github.com/outhook/webhook"
)

// claimFast leases, in one statement and no explicit transaction, the due
// deliveries of endpoints that need nothing but the per-endpoint cap:
// enabled, active, not Ordered and not rate-limited (by their own limit or
// p.RateLimit). The statement scans the due rows as the general way's
// first round does (FOR UPDATE SKIP LOCKED, due order), ranks each
// endpoint's rows to apply the cap, leases what it picks, and returns the
// picked deliveries with their events' bodies, and how many rows it
// scanned and how many of those belong to endpoints it left alone. It
// commits without waiting for its flush (synchronous_commit off, set by
// the statement itself for every row it locked, and read by the summary
// so that it runs), as the general way's claims do. The setting is not in
// the scan's WHERE: a volatile function there makes the planner expect
// few rows and prefer reading the whole table and sorting it to the
// claim index's order. The rows come back unordered, each with its place
// in due order, and are put in order here: ordered in the statement, the
// rows were sorted (or materialized) with their events' bodies, some 150
// kB a claim, which had the backend take fresh memory, page-faulted in,
// on every claim. A live claim on a
// loaded database took five round trips (begin, scan, lease, endpoints,
// commit); this takes two (this, and the endpoints).
//
// done reports that the general way has nothing to add: no row of another
// kind was scanned, and the scan reached the end of the due rows or the
// claim is full. Each row of another kind the scan met keeps a place of
// the Limit free for the general way, so a rate-limited or Ordered
// endpoint's delivery is not passed over, claim after claim, for
// later-due deliveries of plain endpoints. Otherwise the general way runs with rest: p with the
// Limit left and the fast claims counted in InFlight.
func (s *Store) claimFast(ctx context.Context, p webhook.ClaimParams) (claims []*webhook.Claim, rest webhook.ClaimParams, done bool, err error) {
	now := clampNanos(p.Now)
	maxPer, scan := math.MaxInt32, p.Limit
	var excluded, capEps []string
	var capN []int
	if p.MaxPerEndpoint > 0 {
		maxPer, scan = p.MaxPerEndpoint, min(p.Limit*2+8, 1000)
		for ep, n := range p.InFlight {
			if n >= p.MaxPerEndpoint {
				excluded = append(excluded, ep)
			} else if n > 0 {
				capEps, capN = append(capEps, ep), append(capN, p.MaxPerEndpoint-n)
			}
		}
	}
	token := newID() + "."
	rows, err := s.db.QueryContext(ctx, s.q(`WITH cand AS (
			SELECT d.id, d.endpoint_id, d.due_at FROM {p}deliveries d
			WHERE d.state = 'pending' AND d.due_at <= ? AND (d.leased_until IS NULL OR d.leased_until <= ?)
				AND d.endpoint_id NOT IN (SELECT unnest(CAST(? AS text)::text[]))
			ORDER BY d.due_at, d.id LIMIT ? FOR UPDATE OF d SKIP LOCKED),
		j AS (SELECT c.id, c.endpoint_id, c.due_at,
				(e.id IS NULL OR e.disabled <> 0 OR e.inactive <> 0 OR e.ordered <> 0 OR e.rate_per_second > 0 OR ?) AS special,
				row_number() OVER (PARTITION BY c.endpoint_id ORDER BY c.due_at, c.id) AS rn,
				set_config('synchronous_commit', 'off', true) AS async
			FROM cand c LEFT JOIN {p}endpoints e ON e.id = c.endpoint_id),
		caps AS (SELECT * FROM unnest(CAST(? AS text)::text[], CAST(? AS text)::int[]) AS caps (ep, n)),
		pick AS (SELECT j.id, row_number() OVER (ORDER BY j.due_at, j.id) AS ord FROM j
			LEFT JOIN caps ON caps.ep = j.endpoint_id
			WHERE NOT j.special AND j.rn <= COALESCE(caps.n, ?)
			ORDER BY j.due_at, j.id LIMIT greatest(? - (SELECT count(*) FROM j WHERE j.special), 0)),
		upd AS (UPDATE {p}deliveries d SET claim_token = ? || d.id, leased_until = ?
			FROM pick WHERE d.id = pick.id RETURNING d.*),
		sum AS (SELECT count(*) AS scanned, count(*) FILTER (WHERE special) AS specials, max(async) AS async FROM j)
		SELECT COALESCE(d.id, ''), COALESCE(d.event_id, ''), COALESCE(d.event_type, ''), COALESCE(d.tenant_id, ''),
			COALESCE(d.endpoint_id, ''), COALESCE(d.state, ''), COALESCE(d.attempts, 0), COALESCE(d.next_attempt_at, 0),
			COALESCE(d.last_error, ''), COALESCE(d.created_at, 0), COALESCE(d.updated_at, 0),
			ev.body, ev.metadata, sum.scanned, sum.specials, COALESCE(pick.ord, 0)
		FROM sum LEFT JOIN (upd d JOIN pick ON pick.id = d.id) ON true
			LEFT JOIN LATERAL (SELECT body, metadata FROM {p}events WHERE id = d.event_id LIMIT 1) ev ON true`),
		now, now, pgArray(excluded), scan,
		p.RateLimit.PerSecond > 0,
		pgArray(capEps), pgIntArray(capN), maxPer, p.Limit,
		token, clampNanos(p.Now.Add(p.Lease)))
	if err != nil {
		return nil, p, false, err
	}
	l := newLeased()
	var scanned, specials int
	var ord int64
	rank := map[string]int64{}
	l.each = func(id string) { rank[id] = ord }
	if err := l.read(ctx, s, rows, &scanned, &specials, &ord); err != nil {
		s.giveBack(ctx, l.order, token)
		return nil, p, false, err
	}
	slices.SortFunc(l.order, func(a, b string) int { return cmp.Compare(rank[a], rank[b]) })
	if len(l.order) > 0 {
		if claims, err = s.finishClaims(ctx, s.db, l.order, l, token, p.Now, p.Now.Add(p.Lease)); err != nil {
			s.giveBack(ctx, l.order, token)
			return nil, p, false, err
		}
	}
	leased := len(l.order)
	if specials == 0 && (scanned < scan || leased >= p.Limit) {
		return claims, p, true, nil
	}
	rest = p
	rest.Limit = p.Limit - leased
	if rest.Limit <= 0 {
		return claims, p, true, nil
	}
	rest.InFlight = maps.Clone(p.InFlight)
	if rest.InFlight == nil {
		rest.InFlight = map[string]int{}
	}
	for _, c := range claims {
		rest.InFlight[c.Endpoint.ID]++
	}
	return claims, rest, false, nil
}

// giveBackTimeout bounds giveBack's Release.
const giveBackTimeout = 5 * time.Second

// giveBack releases leases the fast claim took but cannot hand out: its
// statement committed them, then reading its rows or their endpoints
// failed (a lost connection, a cancelled ctx). Given back, they are due
// again at once rather than when their leases end. It is best effort, with
// a context of its own (ctx may be what failed): if the Release fails too,
// the leases end as they would have. ids are those read before the
// failure; a row never read cannot be named, and waits for its lease.
func (s *Store) giveBack(ctx context.Context, ids []string, token string) {
	if len(ids) == 0 {
		return
	}
	leases := make([]webhook.Lease, len(ids))
	for i, id := range ids {
		leases[i] = webhook.Lease{DeliveryID: id, Token: token + id}
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), giveBackTimeout)
	defer cancel()
	if err := s.Release(rctx, leases); err != nil {
		s.opts.Logger.WarnContext(ctx, "sqlstore: claim: a read failed after the lease, and giving the leases back failed too; they are due again when their leases end",
			"deliveries", len(ids), "err", err)
	}
}
