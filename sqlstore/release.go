package sqlstore

// Release: giving back the leases of claims never attempted
// (webhook.Releaser).

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	webhook "github.com/outhook/webhook"
)

var _ webhook.Releaser = (*Store)(nil)

// Release implements webhook.Releaser with one UPDATE that clears
// claim_token and leased_until of each listed delivery still pending
// under its listed token, each found by its primary key (the list is one
// JSON parameter: one statement text for every batch size). Nothing else
// of the row changes. An Ordered endpoint's next delivery may then go:
// Claim holds it back only while the endpoint's ordered_lease is pending
// with a leased_until in the future. On PostgreSQL the UPDATE is the
// whole call (one statement, committed on its own) and a NOTIFY follows
// it when it released anything (see notifyAfterCommit); on SQLite it runs
// on the writer with the change counter Listen polls.
func (s *Store) Release(ctx context.Context, leases []webhook.Lease) error {
	if len(leases) == 0 {
		return nil
	}
	list := make([][2]string, len(leases))
	for i, l := range leases {
		list[i] = [2]string{l.DeliveryID, l.Token}
	}
	b, err := json.Marshal(list)
	if err != nil {
		return fmt.Errorf("sqlstore: release: encoding the leases: %w", err)
	}
	query := s.q(`UPDATE {p}deliveries SET claim_token = NULL, leased_until = NULL
		FROM (` + s.dia.pairsOf() + `) AS j
		WHERE {p}deliveries.id = j.did AND {p}deliveries.claim_token = j.tok AND {p}deliveries.state = 'pending'`)
	released := func(res sql.Result) (bool, error) {
		n, err := res.RowsAffected()
		return n > 0, err
	}
	if s.dia.locksRows() { // PostgreSQL: one statement
		res, err := s.db.ExecContext(ctx, query, string(b))
		if err != nil {
			return fmt.Errorf("sqlstore: release: %w", err)
		}
		if some, err := released(res); err == nil && some {
			s.notifyAfterCommit()
		}
		return nil
	}
	err = s.inTx(ctx, func(tx querier) error {
		res, err := tx.ExecContext(ctx, query, string(b))
		if err != nil {
			return err
		}
		if some, err := released(res); err != nil || !some {
			return err
		}
		return s.signal(ctx, webhook.WrapSQLTx(tx))
	})
	if err != nil {
		return fmt.Errorf("sqlstore: release: %w", err)
	}
	return nil
}
