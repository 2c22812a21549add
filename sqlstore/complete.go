package sqlstore

// Complete: recording one attempt and the endpoint's counters.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	webhook "github.com/outhook/webhook"
)

// Complete implements webhook.Store. It locks the endpoint row first (the
// order DisableEndpoint uses too), then updates the delivery only if the
// lease token still matches, records the attempt and updates the
// endpoint's counters, all in one transaction: concurrent Completes of one
// endpoint, in any process, queue on the endpoint row, so the consecutive
// failure count is exact and the threshold disables exactly once.
func (s *Store) Complete(ctx context.Context, c webhook.Completion) (*webhook.Endpoint, bool, error) {
	var (
		ep       *webhook.Endpoint
		disabled bool
	)
	var lost bool
	err := s.inTx(ctx, func(tx querier) error {
		var err error
		ep, disabled, err = s.complete(ctx, tx, c)
		if errors.Is(err, errEndedByDisable) {
			lost = true
			return nil // commit the delivery's end
		}
		return err
	})
	if err == nil && lost {
		err = webhook.ErrLeaseLost
	}
	if err != nil {
		if errors.Is(err, webhook.ErrLeaseLost) {
			return nil, false, err
		}
		return nil, false, fmt.Errorf("sqlstore: complete: %w", err)
	}
	return ep, disabled, nil
}

func (s *Store) complete(ctx context.Context, tx querier, c webhook.Completion) (*webhook.Endpoint, bool, error) {
	now := clampNanos(c.Now)
	lock := s.dia.forUpdate("e")
	// Read the delivery and lock its endpoint's row in one statement: the
	// endpoint row first, as DisableEndpoint does, so they cannot deadlock.
	var (
		endpointID, eventID   string
		attempts, wasDisabled int
	)
	err := tx.QueryRowContext(ctx, s.q(`SELECT d.endpoint_id, d.event_id, d.attempts, e.disabled
		FROM {p}deliveries d JOIN {p}endpoints e ON e.id = d.endpoint_id WHERE d.id = ?`+lock), c.DeliveryID).
		Scan(&endpointID, &eventID, &attempts, &wasDisabled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, webhook.ErrLeaseLost // the delivery or its endpoint is gone
	}
	if err != nil {
		return nil, false, err
	}
	if wasDisabled != 0 && c.Outcome != webhook.OutcomeSuccess {
		// A Claim that read the endpoint just before a concurrent disable
		// committed handed this delivery out after the disable had ended the
		// endpoint's pending deliveries. End it the way the disable would
		// have, and count nothing: the lease did not hold.
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE {p}deliveries SET state = 'failed', last_error = ?, claim_token = NULL,
			updated_at = ? WHERE id = ? AND claim_token = ? AND state = 'pending'`),
			webhook.ReasonEndpointDisabled, now, c.DeliveryID, c.Token); err != nil {
			return nil, false, err
		}
		return nil, false, errEndedByDisable
	}

	a := webhook.Attempt{}
	if c.Attempt != nil {
		a = *c.Attempt
	}
	reason := clean(a.Error, 1024)

	var res sql.Result
	switch c.Outcome {
	case webhook.OutcomeSuccess:
		// A success is recorded also when a disable ended the delivery
		// while the attempt was in flight (the disable keeps the token):
		// the receiver did get it.
		res, err = tx.ExecContext(ctx, s.q(`UPDATE {p}deliveries SET state = 'succeeded', attempts = attempts + 1,
			claim_token = NULL, last_error = '', updated_at = ? WHERE id = ? AND claim_token = ?
			AND (state = 'pending' OR (state = 'failed' AND last_error = ?))`),
			now, c.DeliveryID, c.Token, webhook.ReasonEndpointDisabled)
	case webhook.OutcomeRetry:
		at := clampNanos(c.RetryAt)
		res, err = tx.ExecContext(ctx, s.q(`UPDATE {p}deliveries SET attempts = attempts + 1, next_attempt_at = ?, due_at = ?,
			claim_token = NULL, leased_until = NULL, last_error = ?, updated_at = ? WHERE id = ? AND claim_token = ? AND state = 'pending'`),
			at, at, reason, now, c.DeliveryID, c.Token)
	case webhook.OutcomeFail:
		res, err = tx.ExecContext(ctx, s.q(`UPDATE {p}deliveries SET state = 'failed', attempts = attempts + 1,
			claim_token = NULL, last_error = ?, updated_at = ? WHERE id = ? AND claim_token = ? AND state = 'pending'`),
			reason, now, c.DeliveryID, c.Token)
	default:
		return nil, false, &webhook.ValidationError{Field: "Outcome", Reason: fmt.Sprintf("unknown outcome %d", c.Outcome)}
	}
	if err != nil {
		return nil, false, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, false, err
	} else if n == 0 {
		return nil, false, webhook.ErrLeaseLost
	}

	if a.ID == "" {
		a.ID = newID()
	}
	if a.Number == 0 {
		a.Number = attempts + 1
	}
	_, err = tx.ExecContext(ctx, s.q(`INSERT INTO {p}attempts (id, delivery_id, event_id, endpoint_id, number, started_at,
		duration_ns, status_code, response_body, error, success) VALUES (`+placeholders(11)+`)`),
		a.ID, c.DeliveryID, eventID, endpointID, a.Number, clampNanos(a.StartedAt), int64(a.Duration), a.StatusCode,
		clean(a.ResponseBody, s.opts.ResponseExcerpt), reason, boolInt(c.Outcome == webhook.OutcomeSuccess))
	if err != nil {
		return nil, false, err
	}

	var set string
	var args []any
	switch c.Outcome {
	case webhook.OutcomeSuccess:
		set, args = `consecutive_failures = 0, last_success_at = ?`, []any{now}
	case webhook.OutcomeRetry:
		set, args = `last_failure_at = ?, last_failure_reason = ?`, []any{now, reason}
	case webhook.OutcomeFail:
		set, args = `consecutive_failures = consecutive_failures + 1, last_failure_at = ?, last_failure_reason = ?`, []any{now, reason}
	}
	ep, err := scanEndpoint(tx.QueryRowContext(ctx, s.q(`UPDATE {p}endpoints SET `+set+` WHERE id = ? RETURNING `+endpointColumns),
		append(args, endpointID)...))
	if err != nil {
		return nil, false, err
	}
	if c.Outcome != webhook.OutcomeFail {
		return ep, false, nil
	}
	why := c.DisableReason
	if why == "" && c.DisableAfter > 0 && ep.ConsecutiveFailures >= c.DisableAfter {
		why = fmt.Sprintf("%d consecutive failed deliveries; last: %s", ep.ConsecutiveFailures, reason)
	}
	if why == "" {
		return ep, false, nil
	}
	if err := s.disable(ctx, tx, endpointID, why, c.Now); err != nil {
		return nil, false, err
	}
	ep, err = s.getEndpoint(ctx, tx, endpointID)
	if err != nil {
		return nil, false, err
	}
	return ep, true, nil
}

// errEndedByDisable tells Complete to commit and report ErrLeaseLost.
var errEndedByDisable = errors.New("sqlstore: delivery ended by a disable")

// clean makes s storable as text in every database (valid UTF-8, no NUL,
// which PostgreSQL rejects) and cuts it to at most max bytes at a rune
// boundary.
func clean(s string, max int) string {
	if len(s) > max {
		s = s[:max]
		// Drop the bytes of a rune the cut split in half.
		for i := 0; i < utf8.UTFMax-1 && len(s) > 0; i++ {
			r, size := utf8.DecodeLastRuneInString(s)
			if r != utf8.RuneError || size != 1 {
				break
			}
			s = s[:len(s)-1]
		}
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "")
}
