package portal

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// apiSecretRoutes are the only answers that may show a secret.
var apiSecretRoutes = map[string]int{
	"POST /api/endpoints":                    http.StatusCreated,
	"POST /api/endpoints/{id}/rotate-secret": http.StatusOK,
}

// assertNoSecrets fails if any response seen so far shows one of secrets
// (or anything that looks like a generated secret), except create and
// rotate; never may any response show one of hidden.
func (e *apiEnv) assertNoSecrets(t *testing.T, secrets, hidden []string) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.seen {
		for _, h := range hidden {
			if strings.Contains(s.body, h) {
				t.Errorf("%s (%d) shows %q: %s", s.route, s.status, h, s.body)
			}
		}
		if want, ok := apiSecretRoutes[s.route]; ok && s.status == want {
			continue
		}
		for _, sec := range append([]string{"whsec_"}, secrets...) {
			if strings.Contains(s.body, sec) {
				t.Errorf("%s (%d) shows a secret: %s", s.route, s.status, s.body)
			}
		}
	}
}

// waitAttempts waits for n attempts and returns their delivery IDs.
func (e *apiEnv) waitAttempts(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-e.attempts:
		case <-time.After(10 * time.Second):
			t.Fatalf("no attempt %d of %d", i+1, n)
		}
	}
}

// TestAPIScenario uses every route successfully, as a customer would:
// each answer is checked against openapi.json (in send), every route must
// have answered a documented success, and no answer but create's and
// rotate's shows a secret. The URL's ?key= secret and a credential header
// never show at all.
func TestAPIScenario(t *testing.T) {
	e := apiSetup(t)
	ctx := context.Background()
	var types apiList[apiEventTypeJSON]
	e.mustDo(t, "GET", "/api/event-types", "a", nil, 200, &types)
	if len(types.Data) != 2 || types.Data[0].Name != "post.created" || string(types.Data[0].Example) != `{"id":"p_1","title":"Hello"}` ||
		string(types.Data[1].Example) != "null" {
		t.Errorf("event types: %+v", types.Data)
	}
	e.mustDo(t, "GET", "/api/openapi.json", "a", nil, 200, nil)

	// Create: the secret once; URL and credential header redacted.
	var created apiCreated
	e.mustDo(t, "POST", "/api/endpoints", "a", map[string]any{
		"name": "prod", "url": e.recv.URL + "/ok?key=s3cr3tkey", "events": []string{"post.created"},
		"method": "PUT", "content_type": "application/json", "max_attempts": 2,
		"headers": map[string]string{"X-Env": "prod", "Authorization": "Bearer tok123"},
	}, 201, &created)
	id := created.ID
	if created.URL != e.recv.URL+"/ok?REDACTED" || created.Headers["Authorization"] != apiRedacted ||
		created.Headers["X-Env"] != "prod" || created.Method != "PUT" || !created.Active || created.Disabled {
		t.Errorf("created: %+v", created)
	}
	secrets := []string{created.Secret}
	var off apiCreated
	e.mustDo(t, "POST", "/api/endpoints", "a", map[string]any{"url": e.recv.URL + "/fail", "max_attempts": 1, "active": false}, 201, &off)
	secrets = append(secrets, off.Secret)
	if off.Active || off.Disabled || off.DisabledReason != nil {
		t.Errorf("created inactive (paused, not disabled): %+v", off)
	}

	var list apiList[apiEndpointJSON]
	e.mustDo(t, "GET", "/api/endpoints", "a", nil, 200, &list)
	if len(list.Data) != 2 || list.Data[0].ID != id {
		t.Fatalf("list: %+v", list.Data)
	}
	// PUT back what GET shows: the redacted URL and header keep their
	// stored values.
	var got apiEndpointJSON
	e.mustDo(t, "GET", "/api/endpoints/"+id, "a", nil, 200, &got)
	e.mustDo(t, "PUT", "/api/endpoints/"+id, "a", map[string]any{
		"name": "renamed", "url": got.URL, "events": got.Events, "method": got.Method,
		"content_type": got.ContentType, "max_attempts": got.MaxAttempts, "headers": got.Headers,
	}, 200, &got)
	stored, err := e.d.GetEndpoint(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "renamed" || stored.URL != e.recv.URL+"/ok?key=s3cr3tkey" || stored.Headers.Get("Authorization") != "Bearer tok123" {
		t.Errorf("after PUT: %+v, stored URL %q, headers %v", got, stored.URL, stored.Headers)
	}

	var test apiAttemptJSON
	e.mustDo(t, "POST", "/api/endpoints/"+id+"/test", "a", nil, 200, &test)
	if !test.Success || test.Status == nil || *test.Status != 200 || test.ResponseExcerpt != "thanks" {
		t.Errorf("test attempt: %+v", test)
	}

	// The log: two deliveries to the enabled endpoint, paged one by one.
	e.publish(t, "a", "post.created", 1)
	e.publish(t, "a", "post.created", 1)
	var page1, page2 apiPage[apiDeliveryJSON]
	e.mustDo(t, "GET", "/api/deliveries?endpoint_id="+id+"&state=succeeded&event_type=post.created&limit=1", "a", nil, 200, &page1)
	if len(page1.Data) != 1 || page1.NextCursor == nil {
		t.Fatalf("page 1: %+v", page1)
	}
	e.mustDo(t, "GET", "/api/deliveries?limit=1&cursor="+*page1.NextCursor, "a", nil, 200, &page2)
	if len(page2.Data) != 1 || page2.Data[0].ID == page1.Data[0].ID {
		t.Fatalf("page 2: %+v", page2)
	}
	did := page1.Data[0].ID
	var detail apiDeliveryJSON
	e.mustDo(t, "GET", "/api/deliveries/"+did, "a", nil, 200, &detail)
	if detail.Payload == nil || !strings.Contains(string(*detail.Payload), `"post.created"`) {
		t.Errorf("delivery payload: %v", detail.Payload)
	}
	var attempts apiList[apiAttemptJSON]
	e.mustDo(t, "GET", "/api/deliveries/"+did+"/attempts", "a", nil, 200, &attempts)
	if len(attempts.Data) != 1 || !attempts.Data[0].Success || attempts.Data[0].Number != 1 || attempts.Data[0].StartedAt == nil {
		t.Errorf("attempts: %+v", attempts.Data)
	}
	var again apiDeliveryJSON
	e.mustDo(t, "POST", "/api/deliveries/"+did+"/redeliver", "a", nil, 202, &again)
	if again.ID != did { // pending, or already delivered again
		t.Errorf("redelivered: %+v", again)
	}
	e.waitAttempts(t, 1)
	e.mustDo(t, "GET", "/api/deliveries/"+did+"/attempts", "a", nil, 200, &attempts)
	if len(attempts.Data) != 2 || !attempts.Data[1].Success {
		t.Errorf("attempts after redelivery: %+v", attempts.Data)
	}

	// Disable, enable, recover the failing endpoint's failed deliveries.
	e.mustDo(t, "POST", "/api/endpoints/"+id+"/disable", "a", map[string]any{"reason": "maintenance"}, 200, &got)
	if !got.Disabled || *got.DisabledReason != "maintenance" {
		t.Errorf("disabled: %+v", got)
	}
	e.mustDo(t, "POST", "/api/endpoints/"+id+"/enable", "a", nil, 200, &got)
	if got.Disabled || got.DisabledReason != nil || got.ConsecutiveFailures != 0 {
		t.Errorf("enabled: %+v", got)
	}
	e.mustDo(t, "PUT", "/api/endpoints/"+off.ID, "a", map[string]any{"url": e.recv.URL + "/fail", "max_attempts": 1, "active": true}, 200, &got)
	if !got.Active {
		t.Errorf("switched on: %+v", got)
	}
	e.publish(t, "a", "post.deleted", 1) // only the catch-all /fail endpoint
	e.mustDo(t, "GET", "/api/endpoints/"+off.ID, "a", nil, 200, &got)
	if got.LastFailureAt == nil || got.LastFailureReason == nil || got.ConsecutiveFailures != 1 {
		t.Errorf("failing endpoint: %+v", got)
	}
	var rec struct{ Queued int }
	e.mustDo(t, "POST", "/api/endpoints/"+off.ID+"/recover", "a", map[string]any{"since": "2000-01-01T00:00:00Z"}, 200, &rec)
	if rec.Queued != 1 {
		t.Errorf("recover queued %d, want 1", rec.Queued)
	}
	e.waitAttempts(t, 1)

	var rotated apiSecret
	e.mustDo(t, "POST", "/api/endpoints/"+id+"/rotate-secret", "a", map[string]any{"grace_seconds": 0}, 200, &rotated)
	if rotated.Secret == "" || rotated.Secret == created.Secret {
		t.Errorf("rotated secret %q", rotated.Secret)
	}
	secrets = append(secrets, rotated.Secret)
	e.mustDo(t, "POST", "/api/endpoints/"+id+"/rotate-secret", "a", nil, 200, &rotated)
	secrets = append(secrets, rotated.Secret)

	e.mustDo(t, "DELETE", "/api/endpoints/"+id, "a", nil, 204, nil)
	e.mustDo(t, "GET", "/api/endpoints/"+id, "a", nil, 404, nil)

	// Every route answered a documented success.
	ok := map[string]bool{}
	for _, s := range e.seen {
		if s.status < 300 {
			ok[s.route] = true
		}
	}
	for _, rt := range apiRouteTable {
		if !ok[rt.Method+" "+rt.Path] {
			t.Errorf("route %s %s never answered a success in the scenario: add it", rt.Method, rt.Path)
		}
	}
	e.assertNoSecrets(t, secrets, []string{"s3cr3tkey", "tok123"})
}
