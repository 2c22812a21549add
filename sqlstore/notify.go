package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"
)

// Listen implements webhook.Notifier: it calls wake whenever deliveries
// were written by another transaction (EnqueueTx committed by the
// application, Enqueue or Requeue in another process), until ctx is done.
//
// On PostgreSQL it holds one connection of the pool, runs LISTEN on it and
// waits with Options.WaitForNotification; without that hook it only waits
// for ctx, and such deliveries go out at the dispatcher's next poll. On
// SQLite it reads a one-row change counter every Options.PollInterval.
func (s *Store) Listen(ctx context.Context, wake func()) error {
	if s.dialect == Postgres {
		return s.listenPostgres(ctx, wake)
	}
	return s.pollSQLite(ctx, wake)
}

func (s *Store) listenPostgres(ctx context.Context, wake func()) error {
	if s.opts.WaitForNotification == nil {
		<-ctx.Done()
		return nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: listen: %w", err)
	}
	defer conn.Close()
	// The channel name is the table prefix (checked by New) and a suffix.
	if _, err := conn.ExecContext(ctx, `LISTEN "`+s.channel+`"`); err != nil {
		return fmt.Errorf("sqlstore: listen: %w", err)
	}
	// Notifications sent before LISTEN took effect are not seen: wake once
	// so the dispatcher looks.
	wake()
	err = conn.Raw(func(dc any) error {
		for {
			if err := s.opts.WaitForNotification(ctx, dc); err != nil {
				if ctx.Err() != nil {
					err = nil
				}
				// A connection that ran LISTEN must not go back to the
				// pool: tell database/sql to close it.
				return errors.Join(driver.ErrBadConn, err)
			}
			wake()
		}
	})
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("sqlstore: listen: %w", err)
}

func (s *Store) pollSQLite(ctx context.Context, wake func()) error {
	read := func() (int64, error) {
		var seq int64
		err := s.db.QueryRowContext(ctx, s.q(`SELECT seq FROM {p}signal WHERE id = 1`)).Scan(&seq)
		return seq, err
	}
	last, err := read()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("sqlstore: listen: %w", err)
	}
	t := time.NewTicker(s.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		seq, err := read()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("sqlstore: listen: %w", err)
		}
		if seq != last {
			last = seq
			wake()
		}
	}
}
