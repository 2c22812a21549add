package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
)

// Publish an event and watch it arrive, signed, at a customer's server.
func ExampleDispatcher_Publish() {
	ctx := context.Background()
	got := make(chan string, 1)
	var secret string
	customer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := webhook.Verify(secret, r.Header, body, time.Now())
		got <- fmt.Sprintf("%s %s signature ok: %v", r.Method, r.Header.Get("Content-Type"), err == nil)
	}))
	defer customer.Close()

	d, err := webhook.NewDispatcher(memstore.New(), &webhook.Config{
		AllowPrivateNetworks: true, // the customer server is on loopback
		PollInterval:         10 * time.Millisecond,
	})
	if err != nil {
		panic(err)
	}
	_ = d.Start(ctx)
	defer d.Shutdown(ctx)

	_, secret, _ = d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: customer.URL})
	ev, err := d.Publish(ctx, webhook.Event{
		Type:     "post.created",
		TenantID: "acme",
		Data:     map[string]string{"title": "Dark mode"},
	})
	fmt.Println("published:", err == nil, ev.ID != "")
	fmt.Println(<-got)
	// Output:
	// published: true true
	// POST application/json signature ok: true
}

// Create an endpoint; the secret is returned once, and bad input is a typed
// error.
func ExampleDispatcher_CreateEndpoint() {
	ctx := context.Background()
	d, _ := webhook.NewDispatcher(memstore.New(), &webhook.Config{MaxEndpointsPerTenant: 10})

	ep, secret, err := d.CreateEndpoint(ctx, webhook.EndpointParams{
		TenantID: "acme",
		Name:     "production-server",
		URL:      "https://hooks.example.com/outhook",
		Events:   []string{"post.*", "vote.cast"},
	})
	fmt.Println(err, ep.Name, ep.Method, ep.ContentType, len(secret) > len("whsec_"))

	_, _, err = d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: "http://169.254.169.254/latest"})
	var ve *webhook.ValidationError
	fmt.Println(errors.As(err, &ve), ve.Field)
	// Output:
	// <nil> production-server POST application/json true
	// true URL
}

// The default envelope: compact JSON, fixed key order, no HTML escaping.
func ExampleDefaultEnvelope() {
	body, _ := webhook.DefaultEnvelope(webhook.Event{
		ID:        "evt_1",
		Type:      "post.created",
		TenantID:  "acme",
		CreatedAt: time.Date(2026, 11, 22, 17, 0, 0, 0, time.UTC),
		Data:      map[string]string{"title": "<b>Dark mode</b> & more"},
	})
	fmt.Println(string(body))
	// Output:
	// {"id":"evt_1","type":"post.created","timestamp":"2026-11-22T17:00:00Z","tenant_id":"acme","data":{"title":"<b>Dark mode</b> & more"}}
}

// Smarter Launch's schedule: now, +10 s, +100 s.
func ExampleFixedSchedule() {
	p := webhook.FixedSchedule(10*time.Second, 100*time.Second)
	fmt.Println(p.Attempts(), p.Delay(1), p.Delay(2))
	// Output:
	// 3 10s 1m40s
}

// The README's Sleekplan recipe: product_id a number, the timestamp a
// string of milliseconds, as in Sleekplan's example payload.
func Example_sleekplanEnvelope() {
	envelope := func(ev webhook.Event) ([]byte, error) {
		productID, err := strconv.ParseInt(ev.TenantID, 10, 64) // the tenant is the product
		if err != nil {
			return nil, fmt.Errorf("tenant %q is not a product ID: %w", ev.TenantID, err)
		}
		return webhook.MarshalJSON(struct {
			ProductID int64  `json:"product_id"`
			Action    string `json:"action"`
			Data      any    `json:"data"`
			Timestamp string `json:"timestamp"`
		}{productID, ev.Type, ev.Data, strconv.FormatInt(ev.CreatedAt.UnixMilli(), 10)})
	}
	body, _ := envelope(webhook.Event{
		Type: "item.create", TenantID: "5456534244",
		CreatedAt: time.UnixMilli(1506985999999).UTC(),
		Data:      map[string]string{"feedback_id": "3"},
	})
	fmt.Println(string(body))
	// Output:
	// {"product_id":5456534244,"action":"item.create","data":{"feedback_id":"3"},"timestamp":"1506985999999"}
}

// The README's Smarter Launch recipe: a body a receiver following the
// Python snippet, json.dumps(json.loads(body)), gets back unchanged.
func ExampleEnvelopeWith() {
	envelope := webhook.EnvelopeWith(webhook.MarshalPythonJSON)
	body, _ := envelope(webhook.Event{
		ID: "evt_1", Type: "proposal.accepted", TenantID: "acct_9",
		CreatedAt: time.Date(2026, 11, 22, 17, 0, 0, 0, time.UTC),
		Data:      map[string]any{"client": "Café Ünïon", "total": 1250.5},
	})
	fmt.Println(string(body))
	// Output:
	// {"id": "evt_1", "type": "proposal.accepted", "timestamp": "2026-11-22T17:00:00Z", "tenant_id": "acct_9", "data": {"client": "Caf\u00e9 \u00dcn\u00efon", "total": 1250.5}}
}
