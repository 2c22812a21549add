package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	webhook "github.com/outhook/webhook"
)

// receiver is the loopback server every measurement delivers to: it reads
// the body and answers 204. It counts what it received and, while a
// latencies recorder is set, how long each delivery took from publish,
// read from the event ID (see liveID).
type receiver struct {
	srv  *http.Server
	ln   net.Listener
	url  string
	n    atomic.Int64
	last atomic.Int64 // unix nanoseconds of the latest delivery
	lat  atomic.Pointer[latencies]
	// delay is how long it takes to answer (0: at once); set before use.
	delay time.Duration
}

func newReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{ln: ln, url: "http://" + ln.Addr().String() + "/hook"}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	_, _ = io.Copy(io.Discard, req.Body)
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	now := time.Now()
	if l := r.lat.Load(); l != nil {
		if sent, ok := parseLiveID(req.Header.Get(webhook.HeaderWebhookID)); ok {
			l.add(now.Sub(sent))
		}
	}
	r.last.Store(now.UnixNano())
	r.n.Add(1)
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = r.srv.Shutdown(ctx)
}

// count is how many deliveries arrived so far.
func (r *receiver) count() int64 { return r.n.Load() }

// waitFor waits until n deliveries have arrived in all (counting those
// before the call) and returns when the n-th (or a later one) arrived.
func (r *receiver) waitFor(ctx context.Context, n int64, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for r.n.Load() < n {
		if time.Now().After(deadline) {
			return time.Time{}, errors.New("timed out: " + strconv.FormatInt(r.n.Load(), 10) + " of " + strconv.FormatInt(n, 10) + " deliveries arrived")
		}
		if ctx.Err() != nil {
			return time.Time{}, ctx.Err()
		}
		time.Sleep(time.Millisecond)
	}
	return time.Unix(0, r.last.Load()), nil
}

// rate counts the deliveries arriving during window and returns them per
// second.
func (r *receiver) rate(window time.Duration) float64 {
	start, t0 := r.n.Load(), time.Now()
	time.Sleep(window)
	return float64(r.n.Load()-start) / time.Since(t0).Seconds()
}

// latencies records publish→receiver latencies.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// quantile returns the q-quantile (0..1) of what was recorded.
func (l *latencies) quantile(q float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return quantile(l.d, q)
}

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(q * float64(len(s)-1))
	return s[i]
}

// liveID is an event ID that carries its publish time: "L<unix ns>-<seq>".
func liveID(sent time.Time, seq string) string {
	return "L" + strconv.FormatInt(sent.UnixNano(), 10) + "-" + seq
}

func parseLiveID(id string) (time.Time, bool) {
	if !strings.HasPrefix(id, "L") {
		return time.Time{}, false
	}
	end := strings.IndexByte(id, '-')
	if end < 0 {
		return time.Time{}, false
	}
	ns, err := strconv.ParseInt(id[1:end], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}
