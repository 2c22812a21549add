package portal

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	webhook "github.com/outhook/webhook"
)

func TestPageRateLimitText(t *testing.T) {
	tests := []struct {
		limit webhook.RateLimit
		want  string
	}{
		{webhook.RateLimit{}, ""},
		{webhook.RateLimit{PerSecond: 2.5, Burst: 3}, "at most 2.5 attempts/s, bursts of 3"},
		{webhook.RateLimit{PerSecond: 1}, "at most 1 attempt/s, no bursts"},
		{webhook.RateLimit{PerSecond: 0.5, Burst: 1}, "at most 30 attempts/min, no bursts"},
		{webhook.RateLimit{PerSecond: webhook.MinRatePerSecond, Burst: 2}, "at most 1 attempt/h, bursts of 2"},
		{webhook.RateLimit{PerSecond: 1.0 / 3}, "at most 20 attempts/min, no bursts"},
		{webhook.RateLimit{PerSecond: 1000.123}, "at most 1000.12 attempts/s, no bursts"},
	}
	for _, tt := range tests {
		if got := pageRateLimit(tt.limit); got != tt.want {
			t.Errorf("pageRateLimit(%+v) = %q, want %q", tt.limit, got, tt.want)
		}
	}
}

// TestPageShowsRateLimitAndOrder: a webhook's page shows the rate limit
// and ordering the application set, read-only, and saving the edit form
// keeps them.
func TestPageShowsRateLimitAndOrder(t *testing.T) {
	env := newPageEnv(t, "/hooks", nil)
	pc := env.signIn(t, "acme")
	limit := webhook.RateLimit{PerSecond: 2.5, Burst: 3}
	ep, _, err := env.d.CreateEndpoint(context.Background(), webhook.EndpointParams{TenantID: "acme", Name: "crm",
		URL: "http://127.0.0.1:9/hook", RateLimit: limit, Ordered: true})
	if err != nil {
		t.Fatal(err)
	}
	plain := env.createEndpoint(t, "acme", "plain", "http://127.0.0.1:9/plain")

	_, body := pc.get("/endpoints/" + ep.ID)
	for _, want := range []string{"at most 2.5 attempts/s, bursts of 3", "Ordered: deliveries go one at a time in publish order"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page of a limited, ordered webhook does not say %q", want)
		}
	}
	if strings.Contains(body, `name="rate`) || strings.Contains(body, `name="ordered"`) {
		t.Error("the form offers the application's settings to the customer")
	}
	_, body = pc.get("/endpoints/" + plain.ID)
	if !strings.Contains(body, "no limit of its own") || strings.Contains(body, "Ordered:") {
		t.Error("the page of a plain webhook shows a limit or ordering it does not have")
	}

	resp, _ := pc.post("/endpoints/"+ep.ID, url.Values{"name": {"crm renamed"}, "url": {"http://127.0.0.1:9/other"},
		"method": {http.MethodPost}, "content_type": {webhook.ContentTypeJSON}, "active": {"1"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("update: status %d", resp.StatusCode)
	}
	after, err := env.d.GetEndpoint(context.Background(), ep.ID)
	if err != nil || after.Name != "crm renamed" || after.RateLimit != limit || !after.Ordered {
		t.Fatalf("after the form: %+v, %v; want the RateLimit and Ordered kept", after, err)
	}
}

// TestPageShowsWhatAnOrderedDeliveryWaitsFor: a pending delivery of an
// ordered webhook held back by an earlier one says, in the log and on its
// own page, which delivery it waits for, with a link to it.
func TestPageShowsWhatAnOrderedDeliveryWaitsFor(t *testing.T) {
	env := newPageEnv(t, "/hooks", nil)
	pc := env.signIn(t, "acme")
	ep, _, err := env.d.CreateEndpoint(context.Background(), webhook.EndpointParams{TenantID: "acme", Name: "ordered",
		URL: "http://127.0.0.1:9/hook", Ordered: true})
	if err != nil {
		t.Fatal(err)
	}
	env.publish(t, "acme", "post.created", 2) // the Dispatcher is not started: both stay pending
	ds, _, err := env.d.ListDeliveries(context.Background(), webhook.DeliveryFilter{TenantID: "acme"})
	if err != nil || len(ds) != 2 {
		t.Fatalf("deliveries %v, %v", ds, err)
	}
	second, head := ds[0], ds[1] // the clock stands still: same CreatedAt, either order
	if head.BlockedBy != "" {
		second, head = head, second
	}
	if second.BlockedBy != head.ID || head.BlockedBy != "" {
		t.Fatalf("the Store reports BlockedBy %q and %q, want the second to wait for the head %s", second.BlockedBy, head.BlockedBy, head.ID)
	}
	headLink := `href="/hooks/deliveries/` + head.ID + `"`

	_, body := pc.get("/endpoints/" + ep.ID)
	if n := strings.Count(body, "waiting for"); n != 1 {
		t.Fatalf("the log says %q %d times, want once (the second delivery only)", "waiting for", n)
	}
	row := body[strings.Index(body, "waiting for"):]
	row = row[:strings.Index(row, "</tr>")]
	if !strings.Contains(row, headLink) || !strings.Contains(row, "<code>"+head.ID+"</code>") {
		t.Fatalf("the waiting row does not link to the head: %s", row)
	}

	_, body = pc.get("/deliveries/" + second.ID)
	if !strings.Contains(body, "Waiting for <a "+headLink+"><code>"+head.ID+"</code></a>") || !strings.Contains(body, "one at a time, in publish order") {
		t.Fatal("the second delivery's page does not say which delivery it waits for, and why")
	}
	_, body = pc.get("/deliveries/" + head.ID)
	if strings.Contains(body, "Waiting for") {
		t.Fatal("the head's page says it waits")
	}
}
