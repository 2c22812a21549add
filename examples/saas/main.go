// Command saas is a small multi-tenant application with the outhook
// customer portal mounted at /settings/webhooks: the way to see the
// webhooks page. Two tenants, "acme" and "globex", sign in with a link
// each; a "Create post" button publishes "post.created" (and a vote
// button "vote.cast") to the signed-in tenant's endpoints, inside the
// same database transaction as the post. A demo receiver, a second server
// on 127.0.0.1, plays the customer's server: it verifies each delivery's
// signature and shows what it received on the home page.
//
// From the repository root:
//
//	go run ./examples/saas                                   # SQLite in a temporary directory
//	go run ./examples/saas -db ./saas.db                     # SQLite in a file that stays
//	go run ./examples/saas -postgres postgres://user@localhost/db
//	scripts/with-postgres.sh sh -c 'go run ./examples/saas -postgres "$OUTHOOK_TEST_POSTGRES_URL"'
//
// DATABASE_URL, when set, is used like -postgres. The command prints the
// URL to open and runs until interrupted (Ctrl-C), then drains in-flight
// deliveries and exits.
//
// The demo receiver listens on a new port each run and keeps the secrets
// pasted into it in memory. With a database that outlives the run (-db,
// -postgres), pass a fixed -receiver-addr (say 127.0.0.1:8081) so that
// endpoints saved earlier still reach it, and paste their secrets again
// (or rotate them on the webhooks page).
//
// Everything it needs to be safe on the internet is not here: the sign-in
// is a demo (anyone can click "sign in as acme"), and the dispatcher may
// deliver to private addresses (Config.AllowPrivateNetworks) so that the
// demo receiver on loopback works.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	var opts options
	flag.StringVar(&opts.Addr, "addr", "127.0.0.1:8080", "address the application listens on")
	flag.StringVar(&opts.ReceiverAddr, "receiver-addr", "127.0.0.1:0", "address of the demo receiver (port 0: any free port)")
	flag.StringVar(&opts.DBPath, "db", "", "SQLite database file (default: a new file in a temporary directory, removed at exit)")
	flag.StringVar(&opts.PostgresURL, "postgres", os.Getenv("DATABASE_URL"), "PostgreSQL URL, instead of SQLite (default $DATABASE_URL)")
	verbose := flag.Bool("v", false, "log every delivery attempt")
	flag.Parse()
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, opts, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "saas example:", err)
		os.Exit(1)
	}
}

// run serves the application on opts.Addr until ctx ends, then shuts down
// gracefully: the HTTP server first (in-flight requests finish), then the
// dispatcher (in-flight deliveries finish and are recorded).
func run(ctx context.Context, opts options, out io.Writer) error {
	a, err := newApp(ctx, opts)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Close(sctx); err != nil {
			fmt.Fprintln(out, "shutdown:", err)
		}
	}()

	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.Handler, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	fmt.Fprintf(out, "outhook SaaS demo (%s)\n", a.storeName)
	fmt.Fprintf(out, "  open        http://%s/\n", ln.Addr())
	fmt.Fprintf(out, "  webhooks    http://%s/settings/webhooks/ (after signing in)\n", ln.Addr())
	fmt.Fprintf(out, "  receiver    %s/<tenant> (the demo customer server)\n", a.receiver.URL)
	fmt.Fprintln(out, "Ctrl-C to stop.")

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(out, "shutting down…")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}
