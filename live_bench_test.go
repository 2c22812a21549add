package webhook_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
)

// liveInFlight is how many deliveries BenchmarkMemstoreLive keeps in
// flight, as the bench harness's memstore row does.
const liveInFlight = 32

// liveReceiver is a loopback server that reads the body and answers 204,
// counting deliveries and the connections it accepted.
type liveReceiver struct {
	srv   *httptest.Server
	n     atomic.Int64
	conns atomic.Int64
}

func newLiveReceiver() *liveReceiver {
	r := &liveReceiver{}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		r.n.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	r.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			r.conns.Add(1)
		}
	}
	r.srv.Start()
	return r
}

// waitFor waits until n deliveries have arrived in all.
func (r *liveReceiver) waitFor(n int64) {
	for r.n.Load() < n {
		time.Sleep(50 * time.Microsecond)
	}
}

// liveData is the bench harness's event data: an envelope of about 1 KiB.
var liveData = struct {
	Title string `json:"title"`
	Votes int    `json:"votes"`
	Text  string `json:"text"`
}{Title: "Hello", Votes: 42, Text: strings.Repeat("lorem ipsum ", 75)}

// BenchmarkMemstoreLive is the bench harness's memstore row as a Go
// benchmark, for profiles of the whole path: 4 goroutines publish (at
// most 4096 events ahead of the receiver) to a Dispatcher on memstore
// with 32 attempts in flight on one endpoint, a loopback receiver in the
// process; raw is the same receiver fed by 32 goroutines POSTing signed
// bodies with a tuned client. Each reports the connections the receiver
// accepted (conns): more than 32 means connections were closed and
// dialled again.
//
//	go test -run '^$' -bench MemstoreLive -benchtime 20000x -cpuprofile cpu.out .
func BenchmarkMemstoreLive(b *testing.B) {
	b.Run("raw", func(b *testing.B) {
		r := newLiveReceiver()
		defer r.srv.Close()
		tr := &http.Transport{MaxIdleConns: liveInFlight, MaxIdleConnsPerHost: liveInFlight, DisableCompression: true}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr}
		body, err := webhook.DefaultEnvelope(webhook.Event{ID: "raw", Type: "post.created", Data: liveData, CreatedAt: time.Now()})
		if err != nil {
			b.Fatal(err)
		}
		signer := webhook.StandardSigner{}
		runLive(b, r, liveInFlight, func(i int64) error {
			req, err := http.NewRequest(http.MethodPost, r.srv.URL, bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("User-Agent", webhook.UserAgentDefault)
			if err := signer.Sign(req.Header, webhook.Message{ID: "raw-" + strconv.FormatInt(i, 10), Timestamp: time.Now(), Body: body, Secrets: []string{benchSecret}}); err != nil {
				return err
			}
			res, err := c.Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, webhook.ResponseReadLimitDefault))
			return res.Body.Close()
		})
	})
	b.Run("memstore", func(b *testing.B) {
		r := newLiveReceiver()
		defer r.srv.Close()
		ctx := context.Background()
		d, err := webhook.NewDispatcher(memstore.New(), &webhook.Config{
			AllowPrivateNetworks: true, Workers: liveInFlight, MaxInFlightPerEndpoint: liveInFlight,
		})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{URL: r.srv.URL, TenantID: "bench"}); err != nil {
			b.Fatal(err)
		}
		if err := d.Start(ctx); err != nil {
			b.Fatal(err)
		}
		defer func() { _ = d.Shutdown(ctx) }()
		runLive(b, r, 4, func(i int64) error {
			for i-r.n.Load() > 4096 {
				time.Sleep(100 * time.Microsecond)
			}
			ev := webhook.Event{ID: "m" + strconv.FormatInt(i, 10), Type: "post.created", TenantID: "bench", Data: liveData}
			_, err := d.Publish(ctx, ev)
			return err
		})
	})
}

// runLive calls send for 1 to b.N from the given number of goroutines,
// waits until r has received b.N deliveries, and reports the process's
// CPU time, minor page faults and goroutines started per delivery, and the
// connections r accepted.
func runLive(b *testing.B, r *liveReceiver, goroutines int, send func(i int64) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, faults0, gs0 := cpuTime(), minorFaults(), goroutinesCreated()
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				if err := send(i); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	r.waitFor(int64(b.N))
	b.StopTimer()
	b.ReportMetric(float64(r.conns.Load()), "conns")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(minorFaults()-faults0)/float64(b.N), "faults/op")
	b.ReportMetric(float64(goroutinesCreated()-gs0)/float64(b.N), "goroutines/op")
}

// goroutinesCreated is how many goroutines the process started so far.
func goroutinesCreated() uint64 {
	m := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(m)
	if m[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return m[0].Value.Uint64()
}
