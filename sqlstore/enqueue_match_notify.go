package sqlstore

import (
	"context"
	"strings"
	"sync"
	"time"
)

// afterNotify sends the NOTIFY of EnqueueMatching after its statement
// committed, rather than in it. PostgreSQL
// serializes the commits of transactions that NOTIFY (a database-wide
// lock held through the commit's flush), so concurrent Publish calls that
// each notified in their own statement committed one fsync at a time; now
// their statements commit in parallel and one NOTIFY follows for all that
// committed meanwhile (one in flight, at most one more to send).
// Listeners wake once the deliveries are visible. If the process stops
// between a commit and its NOTIFY, other processes find the deliveries at
// their next poll; this process wakes its own dispatcher directly.
type afterNotify struct {
	mu      sync.Mutex
	running bool // a NOTIFY is being sent
	pending bool // writes committed since it was sent
}

// afterNotifyTimeout bounds one NOTIFY.
const afterNotifyTimeout = 10 * time.Second

// notifyAfterCommit sends a NOTIFY soon, from a goroutine of its own, for
// deliveries committed just now.
func (s *Store) notifyAfterCommit() {
	n := &s.match.notify
	n.mu.Lock()
	if n.running {
		n.pending = true
		n.mu.Unlock()
		return
	}
	n.running = true
	n.mu.Unlock()
	go func() {
		for {
			s.sendNotify()
			n.mu.Lock()
			if !n.pending {
				n.running = false
				n.mu.Unlock()
				return
			}
			n.pending = false
			n.mu.Unlock()
		}
	}()
}

// sendNotify is one NOTIFY in a transaction of its own that commits
// without waiting for its flush (it writes no data of its own: a lost
// commit record loses a wake-up, which polling covers).
func (s *Store) sendNotify() {
	ctx, cancel := context.WithTimeout(context.Background(), afterNotifyTimeout)
	defer cancel()
	_, err := s.db.ExecContext(ctx, `SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, '')`, s.channel)
	// A closed *sql.DB (the application shutting down) is no news.
	if err != nil && !strings.Contains(err.Error(), "database is closed") {
		s.opts.Logger.Warn("sqlstore: notify after publish failed; listeners find the deliveries at their next poll", "err", err)
	}
}
