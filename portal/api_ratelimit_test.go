package portal

import (
	"context"
	"encoding/json"
	"testing"

	webhook "github.com/outhook/webhook"
)

// TestAPIRateLimitShownAndKept: an endpoint's RateLimit, set by the
// application, shows in the API as rate_limit (null without one) and a
// customer's PUT keeps it.
func TestAPIRateLimitShownAndKept(t *testing.T) {
	e := apiSetup(t)
	limit := webhook.RateLimit{PerSecond: 2.5, Burst: 3}
	ep, _, err := e.d.CreateEndpoint(context.Background(), webhook.EndpointParams{TenantID: "acme", URL: e.recv.URL + "/a", RateLimit: limit})
	if err != nil {
		t.Fatal(err)
	}
	status, body := e.do(t, "GET", "/api/endpoints/"+ep.ID, "acme", nil)
	var got struct {
		RateLimit *apiRateLimitJSON `json:"rate_limit"`
	}
	if err := json.Unmarshal(body, &got); status != 200 || err != nil || got.RateLimit == nil || *got.RateLimit != (apiRateLimitJSON{2.5, 3}) {
		t.Fatalf("GET: %d %s", status, body)
	}
	if status, body = e.do(t, "PUT", "/api/endpoints/"+ep.ID, "acme", map[string]any{"url": e.recv.URL + "/b"}); status != 200 {
		t.Fatalf("PUT: %d %s", status, body)
	}
	after, err := e.d.GetEndpoint(context.Background(), ep.ID)
	if err != nil || after.RateLimit != limit {
		t.Fatalf("after a PUT the RateLimit is %+v (%v), want %+v kept", after.RateLimit, err, limit)
	}
	plain, _, err := e.d.CreateEndpoint(context.Background(), webhook.EndpointParams{TenantID: "acme", URL: e.recv.URL + "/c"})
	if err != nil {
		t.Fatal(err)
	}
	_, body = e.do(t, "GET", "/api/endpoints/"+plain.ID, "acme", nil)
	got.RateLimit = &apiRateLimitJSON{}
	if err := json.Unmarshal(body, &got); err != nil || got.RateLimit != nil {
		t.Fatalf("an endpoint without a limit of its own shows rate_limit null: %s", body)
	}
}
