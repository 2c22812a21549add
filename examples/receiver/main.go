// Command receiver is a webhook receiver written with outhook's verify
// package: the side your customers write.
//
// Run as a server:
//
//	WEBHOOK_SECRETS="whsec_new whsec_old" go run ./examples/receiver -listen :8080
//	WEBHOOK_SECRETS="portal-secret" go run ./examples/receiver -listen :8080 -scheme hmac -header Signature
//
// It accepts POST /webhooks only when the signature checks out against one
// of the secrets (space-separated, several while a secret rotates), ignores
// redeliveries of an event it has already processed (at-least-once
// delivery, de-duplicated on the event ID), and answers 204. Forged,
// tampered, stale and unsigned requests get a bare 400 or 401; the reason
// is logged here, never sent back.
//
// Without -listen it runs a demonstration on loopback: an outhook
// Dispatcher sends it real deliveries, one through a secret rotation, and
// it is sent a forged request and a replayed one.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
	"github.com/outhook/webhook/verify"
)

func main() {
	listen := flag.String("listen", "", "serve on this address (e.g. :8080); empty runs the demonstration")
	scheme := flag.String("scheme", "standard", "signature scheme: standard, hmac or stripe")
	header := flag.String("header", "", "signature header for hmac and stripe (defaults: X-Signature, X-Webhook-Signature)")
	prefix := flag.String("prefix", "", "prefix before the hex signature for hmac, e.g. sha256=")
	flag.Parse()

	if *listen == "" {
		if err := demo(os.Stdout); err != nil {
			log.Fatal(err)
		}
		return
	}
	secrets := strings.Fields(os.Getenv("WEBHOOK_SECRETS"))
	v, err := verifier(*scheme, *header, *prefix, secrets)
	if err != nil {
		log.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	srv := &http.Server{Addr: *listen, Handler: newReceiver(v, logger, os.Stdout), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("receiving %s webhooks on %s/webhooks", *scheme, *listen)
	log.Fatal(srv.ListenAndServe())
}

// verifier builds the verifier for a scheme.
func verifier(scheme, header, prefix string, secrets []string) (verify.Verifier, error) {
	if len(secrets) == 0 {
		return nil, errors.New("set WEBHOOK_SECRETS to the endpoint's secret (several, space-separated, while rotating)")
	}
	switch scheme {
	case "standard":
		return verify.Standard{Secrets: secrets}, nil
	case "hmac":
		return verify.HMAC{Secrets: secrets, Header: header, Prefix: prefix}, nil
	case "stripe":
		return verify.Stripe{Secrets: secrets, Header: header}, nil
	}
	return nil, fmt.Errorf("unknown -scheme %q: use standard, hmac or stripe", scheme)
}

// receiver processes verified deliveries once each.
type receiver struct {
	out  io.Writer
	mu   sync.Mutex
	seen map[string]bool
}

// newReceiver returns the receiver's routes: POST /webhooks behind the
// verifying middleware.
func newReceiver(v verify.Verifier, logger *slog.Logger, out io.Writer) http.Handler {
	rc := &receiver{out: out, seen: map[string]bool{}}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks", &verify.Handler{Verifier: v, Next: rc, Logger: logger})
	return mux
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, _ := verify.FromContext(r.Context())
	env := p.Envelope
	rc.mu.Lock()
	dup := rc.seen[env.ID]
	rc.seen[env.ID] = true
	rc.mu.Unlock()
	if dup {
		fmt.Fprintf(rc.out, "receiver: %s %s already processed, ignored\n", env.Type, env.ID)
	} else {
		fmt.Fprintf(rc.out, "receiver: %s %s verified: %s\n", env.Type, env.ID, env.Data)
	}
	w.WriteHeader(http.StatusNoContent)
}

// demo runs the receiver on loopback and has a Dispatcher deliver to it.
func demo(out io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String() + "/webhooks"

	// The sender: an application using outhook.
	var sent sync.WaitGroup
	var lastMu sync.Mutex
	var last *http.Request
	var lastBody []byte
	d, err := webhook.NewDispatcher(memstore.New(), &webhook.Config{
		AllowPrivateNetworks: true, // the receiver is on loopback
		PollInterval:         20 * time.Millisecond,
		Client:               recorder{next: webhook.NewClient(true, 2), record: func(r *http.Request, body []byte) { lastMu.Lock(); last, lastBody = r, body; lastMu.Unlock() }},
		OnAttempt:            func(webhook.AttemptResult) { sent.Done() },
	})
	if err != nil {
		return err
	}
	if err := d.Start(ctx); err != nil {
		return err
	}
	defer d.Shutdown(context.Background())
	ep, secret, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: url})
	if err != nil {
		return err
	}

	// The receiver knows only the secret it was given at creation.
	v, _ := verifier("standard", "", "", []string{secret})
	logs := &bytes.Buffer{}
	srv := &http.Server{Handler: newReceiver(v, slog.New(slog.NewTextHandler(logs, nil)), out), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	publish := func(title string) error {
		sent.Add(1)
		if _, err := d.Publish(ctx, webhook.Event{Type: "post.created", TenantID: "acme", Data: map[string]string{"title": title}}); err != nil {
			return err
		}
		sent.Wait()
		return nil
	}
	fmt.Fprintln(out, "sender: publishing post.created")
	if err := publish("Dark mode"); err != nil {
		return err
	}

	fmt.Fprintln(out, "sender: rotating the secret with a one-hour grace period; the receiver still has only the old one")
	if _, err := d.RotateSecret(ctx, ep.ID, time.Hour); err != nil {
		return err
	}
	if err := publish("Keyboard shortcuts"); err != nil {
		return err
	}

	post := func(what string, h http.Header, body []byte) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		req.Header = h
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		answer, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Fprintf(out, "attacker: %s -> %d %s\n", what, res.StatusCode, strings.TrimSpace(string(answer)))
		return nil
	}
	lastMu.Lock()
	h, body := last.Header.Clone(), lastBody
	lastMu.Unlock()
	if err := post("replays the last delivery", h, body); err != nil {
		return err
	}
	forged := bytes.Replace(body, []byte("Keyboard shortcuts"), []byte("Free money!!"), 1)
	if err := post("changes the body", h, forged); err != nil {
		return err
	}
	if err := post("sends no signature", http.Header{"Content-Type": {"application/json"}}, body); err != nil {
		return err
	}
	fmt.Fprintf(out, "receiver's own log of refusals:\n%s", indent(logs.String()))
	return nil
}

// recorder keeps the last request the Dispatcher sent, so the demo can
// replay it.
type recorder struct {
	next   webhook.Doer
	record func(*http.Request, []byte)
}

func (c recorder) Do(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	c.record(r, body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	return c.next.Do(r)
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}
