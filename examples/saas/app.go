package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/portal"
	"github.com/outhook/webhook/sqlstore"
)

// tenants are the application's customers.
var tenants = []string{"acme", "globex"}

// eventTypes is the catalogue: the dispatcher accepts only these, and the
// portal shows them to customers with a description and an example.
var eventTypes = []portal.EventType{
	{
		Name:        "post.created",
		Description: "Someone in your workspace published a post.",
		Example:     map[string]any{"post_id": 42, "title": "Hello, world", "author": "acme"},
	},
	{
		Name:        "vote.cast",
		Description: "A post in your workspace received a vote.",
		Example:     map[string]any{"post_id": 42, "votes": 7},
	},
}

// webhooksPath is where the portal is mounted.
const webhooksPath = "/settings/webhooks"

// options configure newApp.
type options struct {
	Addr         string // where run listens (not used by newApp)
	ReceiverAddr string // the demo receiver's address; "" is 127.0.0.1:0
	DBPath       string // SQLite file; "" is a new file in a temporary directory
	PostgresURL  string // PostgreSQL instead of SQLite when set
	Logger       *slog.Logger
}

// app is the application: its HTTP handler, its database and the
// webhooks machinery.
type app struct {
	Handler   http.Handler // the whole application, portal included
	storeName string       // "SQLite /path" or "PostgreSQL"

	db       *sql.DB
	dialect  sqlstore.Dialect
	d        *webhook.Dispatcher
	portal   *portal.Handler
	receiver *receiver
	loginKey []byte // signs the application's own sign-in cookie
	logger   *slog.Logger
	tmpDir   string // removed by Close
}

// newApp opens the database, starts the dispatcher and the demo receiver
// and builds the handler. Close stops them.
func newApp(ctx context.Context, opts options) (_ *app, err error) {
	a := &app{}
	defer func() {
		if err != nil {
			_ = a.Close(context.Background())
		}
	}()
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(discard{}, nil))
	}
	a.logger = logger
	store, err := a.openStore(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := a.migrate(ctx); err != nil {
		return nil, err
	}

	names := make([]string, len(eventTypes))
	for i, et := range eventTypes {
		names[i] = et.Name
	}
	a.d, err = webhook.NewDispatcher(store, &webhook.Config{
		EventTypes: names,
		// A local demo: the receiver is on loopback, which the dispatcher
		// refuses by default (an endpoint URL must not reach your own
		// network). Never set this in production.
		AllowPrivateNetworks: true,
		// Short retries, so that a failing endpoint visibly retries and
		// gets disabled in minutes rather than hours.
		Retry:        webhook.ExponentialRetry{Initial: 5 * time.Second, Multiplier: 2, Max: time.Minute, MaxAttempts: 4},
		PollInterval: 500 * time.Millisecond,
		Logger:       logger,
	})
	if err != nil {
		return nil, err
	}
	if err := a.d.Start(ctx); err != nil {
		a.d = nil
		return nil, err
	}

	a.receiver, err = startReceiver(opts.ReceiverAddr, logger)
	if err != nil {
		return nil, err
	}

	// Keys: random per run. A real application keeps them in its secret
	// store, the same in every instance, so sessions survive restarts.
	sessionKey := randomBytes(32)
	a.loginKey = randomBytes(32)
	a.portal, err = portal.New(a.d, &portal.Config{
		BasePath:   webhooksPath,
		SessionKey: sessionKey,
		Tenant:     a.tenant, // the application's own sign-in decides
		EventTypes: eventTypes,
		Title:      "Webhooks",
		Logger:     logger,
	})
	if err != nil {
		return nil, err
	}
	a.Handler = a.routes()
	return a, nil
}

// openStore opens PostgreSQL when a URL is given, SQLite otherwise.
func (a *app) openStore(ctx context.Context, opts options) (*sqlstore.Store, error) {
	var err error
	if opts.PostgresURL != "" {
		a.dialect, a.storeName = sqlstore.Postgres, "PostgreSQL"
		if a.db, err = sql.Open("pgx", opts.PostgresURL); err != nil {
			return nil, err
		}
		a.db.SetMaxOpenConns(10)
		a.db.SetMaxIdleConns(10)
		return sqlstore.Open(ctx, a.db, sqlstore.Postgres, &sqlstore.Options{
			// LISTEN/NOTIFY through pgx: a committed post's webhook leaves at once.
			WaitForNotification: func(ctx context.Context, c any) error {
				_, err := c.(*stdlib.Conn).Conn().WaitForNotification(ctx)
				return err
			},
		})
	}
	path := opts.DBPath
	if path == "" {
		if a.tmpDir, err = os.MkdirTemp("", "outhook-saas-"); err != nil {
			return nil, err
		}
		path = filepath.Join(a.tmpDir, "saas.db")
	}
	a.dialect, a.storeName = sqlstore.SQLite, "SQLite "+path
	// WAL (readers never wait for the writer), a 5 s wait for the write
	// lock, and transactions that take the write lock at once.
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	if a.db, err = sql.Open("sqlite", dsn); err != nil {
		return nil, err
	}
	a.db.SetMaxOpenConns(4) // a post's transaction holds one, the store needs others
	a.db.SetMaxIdleConns(4)
	return sqlstore.Open(ctx, a.db, sqlstore.SQLite, nil)
}

// Close stops the dispatcher (waiting for in-flight deliveries until ctx
// ends), the demo receiver and the database.
func (a *app) Close(ctx context.Context) error {
	var errs []error
	if a.d != nil {
		errs = append(errs, a.d.Shutdown(ctx))
	}
	if a.receiver != nil {
		errs = append(errs, a.receiver.Close(ctx))
	}
	if a.db != nil {
		errs = append(errs, a.db.Close())
	}
	if a.tmpDir != "" {
		errs = append(errs, os.RemoveAll(a.tmpDir))
	}
	return errors.Join(errs...)
}

// routes is the application's mux: its own pages and the portal.
func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.serveHome)
	mux.HandleFunc("GET /login/{tenant}", a.serveLogin)
	mux.HandleFunc("POST /logout", a.serveLogout)
	mux.HandleFunc("POST /posts", a.serveCreatePost)
	mux.HandleFunc("POST /posts/{id}/vote", a.serveVote)
	mux.HandleFunc("POST /receiver/secret", a.serveReceiverSecret)
	mux.HandleFunc("POST /receiver/connect", a.serveReceiverConnect)
	// The portal: everything under the prefix, and the prefix itself.
	mux.Handle(webhooksPath+"/", a.portal)
	mux.Handle(webhooksPath, http.RedirectHandler(webhooksPath+"/", http.StatusMovedPermanently))
	return mux
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return b
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
