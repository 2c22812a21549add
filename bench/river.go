package main

// River's side of the PostgreSQL measurements: its job, its worker (the
// same signed POST outhook sends) and its client.

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// deliverArgs is River's job: one signed POST of Body, as outhook sends.
type deliverArgs struct {
	ID   string `json:"id"`
	Body string `json:"body"`
}

func (deliverArgs) Kind() string { return "bench_deliver" }

type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	c   *http.Client
	url string
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	return post(ctx, w.c, w.url, job.Args.ID, []byte(job.Args.Body))
}

// river returns a River client on a truncated river_job table: defaults,
// 100 workers on the default queue, and FetchCooldown when not zero.
func (p *pg) river(ctx context.Context, url string, fetchCooldown time.Duration) (*river.Client[pgxTx], error) {
	if _, err := p.admin.ExecContext(ctx, "TRUNCATE river_job"); err != nil {
		return nil, err
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &deliverWorker{c: p.http, url: url})
	return river.NewClient(riverpgxv5.New(p.pool), &river.Config{
		Logger:        slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
		Queues:        map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: riverWorkers}},
		Workers:       workers,
		FetchCooldown: fetchCooldown,
	})
}

func stopRiver(c *river.Client[pgxTx]) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		_ = c.StopAndCancel(context.Background())
	}
}

// riverBurnDown inserts n jobs (InsertMany, 1000 a call) and times their
// delivery; it returns jobs/s, CPU µs per job and the insert rate.
func (p *pg) riverBurnDown(ctx context.Context, e *env, cooldown time.Duration, n int) (rate, cpu, load float64, err error) {
	c, err := p.river(ctx, e.rcv.url, cooldown)
	if err != nil {
		return 0, 0, 0, err
	}
	b := string(body("river"))
	t0 := time.Now()
	for i := 0; i < n; i += 1000 {
		params := make([]river.InsertManyParams, 0, 1000)
		for j := i; j < min(n, i+1000); j++ {
			params = append(params, river.InsertManyParams{Args: deliverArgs{ID: fmt.Sprintf("rb-%d", j), Body: b}})
		}
		if _, err := c.InsertMany(ctx, params); err != nil {
			return 0, 0, 0, err
		}
	}
	load = float64(n) / time.Since(t0).Seconds()
	p.checkpoint(ctx)
	defer stopRiver(c)
	rate, cpu, err = burnDown(ctx, e.rcv, func() error { return c.Start(ctx) }, n, e.p.timeout)
	return rate, cpu, load, err
}
