package sqlstore

// Fixed-shape batch statements on SQLite: lists travel as one JSON array
// bound to one parameter (json_each), so one statement text, and so one
// prepared statement on the writer's connection, serves every batch size,
// and each listed row is found through the primary key (the IDs of an
// "IN (%s)" list too: sqlite.inList).

import (
	"context"
	"encoding/json"
	"fmt"

	webhook "github.com/outhook/webhook"
)

// succeedLite is one chunk of succeedMany on SQLite: the deliveries of
// the successes at idx (indexes in cs) marked delivered by one UPDATE …
// FROM a JSON list of (id, token, completion time), each row found by its
// primary key. (A row-value IN over VALUES, as on PostgreSQL, makes
// SQLite scan the whole table.) What each row returned goes to done under
// its index in cs; every index tried is first recorded as -1-i.
func (s *Store) succeedLite(ctx context.Context, tx querier, cs []webhook.Completion, idx []int, done map[int]applied) error {
	list := make([][3]any, len(idx))
	byID := make(map[string]int, len(idx))
	for k, i := range idx {
		list[k] = [3]any{cs[i].DeliveryID, cs[i].Token, clampNanos(cs[i].Now)}
		byID[cs[i].DeliveryID] = i
		done[-1-i] = applied{}
	}
	b, err := json.Marshal(list)
	if err != nil {
		return fmt.Errorf("encoding the batch: %w", err)
	}
	rows, err := tx.QueryContext(ctx, s.q(`UPDATE {p}deliveries SET state = 'succeeded', attempts = attempts + 1,
		claim_token = NULL, last_error = '', updated_at = j.at
		FROM (SELECT json_extract(value, '$[0]') AS did, json_extract(value, '$[1]') AS tok,
			json_extract(value, '$[2]') AS at FROM json_each(?)) AS j
		WHERE {p}deliveries.id = j.did AND {p}deliveries.claim_token = j.tok
		AND (state = 'pending' OR (state = 'failed' AND last_error = ?)) RETURNING id, event_id, attempts`),
		string(b), webhook.ReasonEndpointDisabled)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id string
		var a applied
		if err := rows.Scan(&id, &a.eventID, &a.attempts); err != nil {
			rows.Close()
			return err
		}
		done[byID[id]] = a
	}
	if err := rows.Close(); err != nil {
		return err
	}
	return rows.Err()
}
