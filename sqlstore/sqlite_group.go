package sqlstore

// Group commit on SQLite: write transactions that queue up while one runs
// share the next BEGIN IMMEDIATE … COMMIT, each inside its own savepoint.

import (
	"context"
	"fmt"
)

// liteGroupMax bounds the callers' transactions one commit carries.
const liteGroupMax = 32

// liteReq is one caller's transaction waiting for the writer.
type liteReq struct {
	ctx context.Context
	fn  func(tx querier) error
	res chan liteRes // one message: a result, or the lead
}

// liteRes is what a caller hears back.
type liteRes struct {
	err   error
	panic any  // fn panicked with this
	lead  bool // run the next group (the request is its first)
}

// run runs fn in a write transaction; see Store.inTx. When no group is
// running, the caller runs one at once; otherwise its request waits and is
// taken into the next group, whose leader the first waiting caller
// becomes (so no caller serves others for long). A group is BEGIN
// IMMEDIATE, the first request's fn, then the fn of each request that
// waits (each in a savepoint: a failing one is rolled back alone), and one
// COMMIT: every caller's result is known only once the COMMIT that carries
// its writes has run, and a failed COMMIT fails every caller in it.
//
// A request whose ctx is done before its fn starts fails with ctx's error.
// The first fn of a group runs under its own ctx, as before; the others run
// detached from their ctx's cancellation (an interrupted statement can
// roll back the whole transaction, the others' writes included), which a
// short fn does not miss.
func (w *liteWriter) run(ctx context.Context, s *Store, fn func(tx querier) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlstore: conn: %w", err)
	}
	r := &liteReq{ctx: ctx, fn: fn, res: make(chan liteRes, 1)}
	w.qmu.Lock()
	if w.leading {
		w.queue = append(w.queue, r)
		w.qmu.Unlock()
	} else {
		w.leading = true
		w.qmu.Unlock()
		w.lead(s, r)
	}
	for {
		res := <-r.res
		if res.lead {
			w.lead(s, r)
			continue
		}
		if res.panic != nil {
			panic(res.panic)
		}
		return res.err
	}
}

// lead runs one group starting with first, then hands the lead to the
// first waiting request, or ends it.
func (w *liteWriter) lead(s *Store, first *liteReq) {
	w.sem <- struct{}{} // tryRead and the idle timer hold it only briefly
	w.group(s, first)
	w.release()
	w.qmu.Lock()
	if len(w.queue) == 0 {
		w.leading = false
		w.qmu.Unlock()
		return
	}
	next := w.queue[0]
	w.queue[0] = nil
	w.queue = w.queue[1:]
	w.qmu.Unlock()
	next.res <- liteRes{lead: true}
}

// take removes a waiting request from the queue, or returns nil.
func (w *liteWriter) take() *liteReq {
	w.qmu.Lock()
	defer w.qmu.Unlock()
	if len(w.queue) == 0 {
		return nil
	}
	r := w.queue[0]
	w.queue[0] = nil
	w.queue = w.queue[1:]
	return r
}

// call runs fn, turning a panic into a value.
func call(fn func(tx querier) error, tx querier) (err error, pv any) {
	defer func() {
		if v := recover(); v != nil {
			pv = v
		}
	}()
	return fn(tx), nil
}

// group runs one transaction for first and the requests that wait, and
// answers each. The caller holds sem.
func (w *liteWriter) group(s *Store, first *liteReq) {
	ctx := first.ctx
	if err := ctx.Err(); err != nil {
		first.res <- liteRes{err: fmt.Errorf("sqlstore: conn: %w", err)}
		return
	}
	if w.conn == nil {
		if err := w.connect(ctx); err != nil {
			first.res <- liteRes{err: err}
			return
		}
	}
	conn := w.conn
	if _, err := w.exec(ctx, "BEGIN IMMEDIATE"); err != nil {
		// A connection that cannot begin may be inside a transaction
		// left by something unexpected: start again with another.
		w.drop(true)
		first.res <- liteRes{err: fmt.Errorf("sqlstore: begin immediate: %w", err)}
		return
	}
	// The first request alone: on failure the whole transaction goes.
	if err, pv := call(first.fn, liteTx{w: w}); err != nil || pv != nil {
		w.rollback(ctx, s, conn)
		first.res <- liteRes{err: err, panic: pv}
		return
	}
	detached := context.WithoutCancel(ctx)
	members := []*liteReq{first}
	answer := make([]liteRes, 1, liteGroupMax) // by member
	broken := false
	for len(members) < liteGroupMax && !broken {
		r := w.take()
		if r == nil {
			break
		}
		members = append(members, r)
		if err := r.ctx.Err(); err != nil {
			answer = append(answer, liteRes{err: fmt.Errorf("sqlstore: conn: %w", err)})
			continue
		}
		if _, err := w.exec(detached, "SAVEPOINT outhook_group"); err != nil {
			answer = append(answer, liteRes{err: fmt.Errorf("sqlstore: savepoint: %w", err)})
			broken = true
			break
		}
		err, pv := call(r.fn, liteTx{w: w, detach: true})
		if err == nil && pv == nil {
			if _, err := w.exec(detached, "RELEASE outhook_group"); err != nil {
				answer = append(answer, liteRes{err: fmt.Errorf("sqlstore: release savepoint: %w", err)})
				broken = true
				break
			}
			answer = append(answer, liteRes{})
			continue
		}
		answer = append(answer, liteRes{err: err, panic: pv})
		_, e1 := w.exec(detached, "ROLLBACK TO outhook_group")
		_, e2 := w.exec(detached, "RELEASE outhook_group")
		if e1 != nil || e2 != nil {
			broken = true
		}
	}
	var commitErr error
	if broken {
		commitErr = fmt.Errorf("sqlstore: commit: a transaction of the group could not be rolled back alone")
		w.rollback(detached, s, conn)
	} else if _, err := w.exec(detached, "COMMIT"); err != nil {
		commitErr = fmt.Errorf("sqlstore: commit: %w", err)
		w.rollback(detached, s, conn)
	}
	for i, r := range members {
		res := answer[i]
		if commitErr != nil && res.err == nil && res.panic == nil {
			res.err = commitErr // its writes are gone with the rest
		}
		r.res <- res
	}
}
