package webhook

import (
	"context"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
)

// phaseTrace is the httptrace.ClientTrace that tells send how far a
// request got (a sendPhase), so a transport error can say whether it came
// while connecting or while waiting for the response. The trace, its two
// hooks and the phase are one object, reused from attempt to attempt: an
// attempt that made them anew allocated four objects for them.
type phaseTrace struct {
	phase  atomic.Int32 // a sendPhase; the hooks may run on other goroutines
	trace  httptrace.ClientTrace
	pooled bool // taken from phaseTraces, to go back there
}

// phaseTraces holds the phaseTraces of finished attempts.
var phaseTraces = sync.Pool{New: func() any {
	t := newPhaseTrace()
	t.pooled = true
	return t
}}

func newPhaseTrace() *phaseTrace {
	t := &phaseTrace{}
	t.trace.GetConn = func(string) { t.phase.Store(int32(phaseConnecting)) }
	t.trace.GotConn = func(httptrace.GotConnInfo) { t.phase.Store(int32(phaseConnected)) }
	return t
}

// withPhaseTrace returns ctx with a phaseTrace installed, its phase
// phaseUnknown. Give it back with release once the request is over (its
// response body closed).
//
// A trace already in ctx (Config.AttemptContext may install one) is
// composed with ours: httptrace then writes its hooks into our trace, so
// that one is made for this attempt alone and never reused. net/http calls
// GetConn and GotConn only before Do returns, and never writes to the
// trace, so a pooled trace is not touched by the attempt that had it
// before.
func withPhaseTrace(ctx context.Context) (context.Context, *phaseTrace) {
	var t *phaseTrace
	if httptrace.ContextClientTrace(ctx) == nil {
		t = phaseTraces.Get().(*phaseTrace)
	} else {
		t = newPhaseTrace()
	}
	t.phase.Store(int32(phaseUnknown))
	return httptrace.WithClientTrace(ctx, &t.trace), t
}

// phaseNow is how far the request got.
func (t *phaseTrace) phaseNow() sendPhase { return sendPhase(t.phase.Load()) }

// release gives t back for another attempt.
func (t *phaseTrace) release() {
	if t.pooled {
		phaseTraces.Put(t)
	}
}
