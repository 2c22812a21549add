package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/outhook/webhook/verify"
)

// The demo receiver stands in for each customer's own server: a second
// HTTP server on loopback with one URL per tenant, <URL>/<tenant>. Like a
// real receiver it knows the signing secrets its owner gave it (pasted
// from the portal, which shows a secret once) and rejects, with 401, any
// delivery whose signature does not verify against one of them. It keeps
// the last deliveries per tenant for the home page.

// receiverKeep is how many deliveries per tenant the receiver remembers.
const receiverKeep = 20

// received is one request the receiver got.
type received struct {
	At       time.Time
	ID       string // webhook-id
	Type     string // from the envelope, when it verified
	Verified bool
	Problem  string // why it did not verify
}

// receiver is the demo customer server.
type receiver struct {
	URL string // http://127.0.0.1:port, without the tenant

	srv    *http.Server
	logger *slog.Logger

	mu      sync.Mutex
	secrets map[string][]string   // tenant → secrets, newest first
	log     map[string][]received // tenant → deliveries, newest first
}

// startReceiver listens on addr ("" is 127.0.0.1:0) and serves.
func startReceiver(addr string, logger *slog.Logger) (*receiver, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	rc := &receiver{
		URL:     "http://" + ln.Addr().String(),
		logger:  logger,
		secrets: map[string][]string{},
		log:     map[string][]received{},
	}
	rc.srv = &http.Server{Handler: http.HandlerFunc(rc.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := rc.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("demo receiver stopped", "err", err)
		}
	}()
	return rc, nil
}

// Close stops the receiver.
func (rc *receiver) Close(ctx context.Context) error {
	return rc.srv.Shutdown(ctx)
}

// endpointURL is tenant's receiver URL, the one to add as an endpoint.
func (rc *receiver) endpointURL(tenant string) string {
	return rc.URL + "/" + tenant
}

// addSecret gives tenant's receiver a signing secret; it keeps the three
// newest, so that it still verifies during a rotation's grace period.
func (rc *receiver) addSecret(tenant, secret string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	s := append([]string{secret}, rc.secrets[tenant]...)
	if len(s) > 3 {
		s = s[:3]
	}
	rc.secrets[tenant] = s
}

// secretCount says how many secrets tenant's receiver knows.
func (rc *receiver) secretCount(tenant string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.secrets[tenant])
}

// received returns tenant's last deliveries, newest first.
func (rc *receiver) received(tenant string) []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.log[tenant]...)
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	tenant := strings.TrimPrefix(r.URL.Path, "/")
	if r.Method == http.MethodGet {
		io.WriteString(w, "outhook demo receiver: POST webhooks to "+rc.URL+"/<tenant>\n")
		return
	}
	if !slices.Contains(tenants, tenant) {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, verify.DefaultMaxBodyBytes+1))
	if err != nil || len(body) > verify.DefaultMaxBodyBytes {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	rec := received{At: time.Now(), ID: r.Header.Get(verify.HeaderID)}

	rc.mu.Lock()
	secrets := rc.secrets[tenant]
	rc.mu.Unlock()
	switch {
	case len(secrets) == 0:
		rec.Problem = "no secret yet: paste the one the portal showed you"
	default:
		if err := (verify.Standard{Secrets: secrets}).Verify(r.Header, body); err != nil {
			rec.Problem = "signature does not verify: " + err.Error()
			break
		}
		payload := body
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			v, _ := url.ParseQuery(string(body)) // an endpoint may ask for payload=<json>
			payload = []byte(v.Get("payload"))
		}
		var env struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(payload, &env); err != nil {
			rec.Problem = "not a JSON envelope"
			break
		}
		rec.Verified, rec.Type = true, env.Type
	}

	rc.mu.Lock()
	l := append([]received{rec}, rc.log[tenant]...)
	if len(l) > receiverKeep {
		l = l[:receiverKeep]
	}
	rc.log[tenant] = l
	rc.mu.Unlock()

	if !rec.Verified {
		// A real receiver says nothing about why: the reason is for its
		// own log (here, the home page).
		http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
