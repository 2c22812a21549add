package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	webhook "github.com/outhook/webhook"
)

// secret signs every delivery, outhook's and the baselines' alike.
const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// tenant owns the one endpoint of the single-endpoint measurements.
const tenant = "bench"

// eventType is the type of every event.
const eventType = "post.created"

// data is every event's data: padded so that the envelope, the body sent,
// is about 1 KiB.
type data struct {
	Title string `json:"title"`
	Votes int    `json:"votes"`
	Text  string `json:"text"`
}

var payloadData = data{Title: "Hello", Votes: 42, Text: strings.Repeat("lorem ipsum ", 75)}

// event is the event published with id.
func event(id string) webhook.Event {
	return webhook.Event{ID: id, Type: eventType, TenantID: tenant, Data: payloadData}
}

// body is the envelope outhook sends for the event id, built the same way
// (DefaultEnvelope), for the baselines to send.
func body(id string) []byte {
	ev := event(id)
	ev.CreatedAt = time.Now().UTC().Truncate(time.Microsecond)
	b, err := webhook.DefaultEnvelope(ev)
	if err != nil {
		panic(err)
	}
	return b
}

// tunedClient is the baselines' HTTP client: keep-alive connections for
// every worker, no compression, no proxy lookup.
func tunedClient(conns int) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			ForceAttemptHTTP2:   false,
		},
		Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

var signer = webhook.StandardSigner{}

// post sends what outhook sends for one delivery: the body, signed the
// Standard Webhooks way with secret, and answers an error unless 2xx.
func post(ctx context.Context, c *http.Client, url, id string, b []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", webhook.UserAgentDefault)
	if err := signer.Sign(req.Header, webhook.Message{ID: id, Timestamp: time.Now(), Body: b, Secrets: []string{secret}}); err != nil {
		return err
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, webhook.ResponseReadLimitDefault))
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("HTTP %d", res.StatusCode)
	}
	return nil
}

// cpuTime is the process's CPU time so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// createEndpoint creates the endpoint of tenant at url with the shared
// secret.
func createEndpoint(ctx context.Context, d *webhook.Dispatcher, tenantID, url string) error {
	_, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: tenantID, URL: url, Secret: secret})
	return err
}

// shutdown stops d, waiting at most 10 s.
func shutdown(d *webhook.Dispatcher) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = d.Shutdown(ctx)
}
