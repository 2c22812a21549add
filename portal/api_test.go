package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/webhooktest"
)

// apiBase is where the tests mount the portal.
const apiBase = "/settings/webhooks"

// apiEnv is a portal served over real HTTP, over a started Dispatcher on
// memstore, with a loopback receiver: /ok answers 200, /fail 500.
type apiEnv struct {
	d        *webhook.Dispatcher
	h        *Handler
	srv      *httptest.Server
	recv     *httptest.Server
	hits     atomic.Int64 // requests the receiver got
	attempts chan webhook.AttemptResult

	mu    sync.Mutex
	seen  []apiSeen // every API response the tests read
	check *apiSchemaDoc
}

// apiSeen is one API response, kept for the secret scan.
type apiSeen struct {
	route  string // "POST /api/endpoints", "" off the route table
	status int
	body   string
}

// apiSetup starts an apiEnv. Config.Tenant reads the X-Tenant header:
// absent is unauthenticated, "forbidden" is refused.
func apiSetup(t *testing.T) *apiEnv {
	t.Helper()
	e := &apiEnv{attempts: make(chan webhook.AttemptResult, 100), check: apiLoadSchema(t)}
	e.recv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.hits.Add(1)
		if strings.HasPrefix(r.URL.Path, "/fail") {
			http.Error(w, "receiver says no", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "thanks")
	}))
	t.Cleanup(e.recv.Close)
	d := webhooktest.NewMemDispatcher(t, &webhook.Config{
		PollInterval: 50 * time.Millisecond,
		OnAttempt:    func(r webhook.AttemptResult) { e.attempts <- r },
	})
	e.d = d
	var err error
	e.h, err = New(d, &Config{
		BasePath:   apiBase,
		SessionKey: bytes.Repeat([]byte("k"), 32),
		Tenant: func(r *http.Request) (string, error) {
			switch t := r.Header.Get("X-Tenant"); t {
			case "":
				return "", ErrUnauthenticated
			case "forbidden":
				return "", errors.New("account suspended")
			default:
				return t, nil
			}
		},
		EventTypes: []EventType{
			{Name: "post.created", Description: "A post was published.", Example: map[string]any{"id": "p_1", "title": "Hello"}},
			{Name: "post.deleted", Description: "A post was deleted."},
		},
		MaxBodyBytes: 4096,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(apiBase+"/", e.h)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// do sends a JSON request as tenant (none when "") and returns the
// status and body. Every response is checked against openapi.json and
// the API's header rules.
func (e *apiEnv) do(t *testing.T, method, path, tenant string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.srv.URL+apiBase+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json")
	}
	if tenant != "" {
		req.Header.Set("X-Tenant", tenant)
	}
	return e.send(t, req)
}

// send sends req and checks its answer as do does.
func (e *apiEnv) send(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("%s %s: Cache-Control %q, want no-store", req.Method, req.URL.Path, got)
	}
	if len(body) > 0 && resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s %s: no X-Content-Type-Options: nosniff", req.Method, req.URL.Path)
	}
	route := e.check.conform(t, req, resp, body)
	e.mu.Lock()
	e.seen = append(e.seen, apiSeen{route: route, status: resp.StatusCode, body: string(body)})
	e.mu.Unlock()
	return resp.StatusCode, body
}

// mustDo is do that fails the test unless the status is want, and
// decodes the body into out (if not nil).
func (e *apiEnv) mustDo(t *testing.T, method, path, tenant string, body any, want int, out any) {
	t.Helper()
	status, got := e.do(t, method, path, tenant, body)
	if status != want {
		t.Fatalf("%s %s as %q: status %d, want %d: %s", method, path, tenant, status, want, got)
	}
	if out != nil {
		if err := json.Unmarshal(got, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, got)
		}
	}
}

// createEndpoint creates an endpoint of tenant at the receiver's path
// and returns its ID and secret.
func (e *apiEnv) createEndpoint(t *testing.T, tenant, path string, extra map[string]any) (id, secret string) {
	t.Helper()
	in := map[string]any{"name": tenant + path, "url": e.recv.URL + path}
	for k, v := range extra {
		in[k] = v
	}
	var out struct{ ID, Secret string }
	e.mustDo(t, "POST", "/api/endpoints", tenant, in, http.StatusCreated, &out)
	if out.ID == "" || out.Secret == "" {
		t.Fatalf("create answered no id or secret")
	}
	return out.ID, out.Secret
}

// publish publishes an event for tenant and waits for its first attempt
// at each of n endpoints; it returns the delivery IDs.
func (e *apiEnv) publish(t *testing.T, tenant, typ string, n int) []string {
	t.Helper()
	if _, err := e.d.Publish(context.Background(), webhook.Event{Type: typ, TenantID: tenant, Data: map[string]string{"x": "y"}}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < n; i++ {
		select {
		case r := <-e.attempts:
			ids = append(ids, r.Attempt.DeliveryID)
		case <-time.After(10 * time.Second):
			t.Fatalf("no attempt %d of %d", i+1, n)
		}
	}
	return ids
}

// apiTenantData is what tenant A owns in the isolation test.
type apiTenantData struct {
	endpoint, failing, delivery, failedDelivery string
}

// apiSeedA gives tenant "a" an endpoint that succeeds and one that fails
// (one attempt each), with one ended delivery on each.
func apiSeedA(t *testing.T, e *apiEnv) apiTenantData {
	t.Helper()
	var a apiTenantData
	a.endpoint, _ = e.createEndpoint(t, "a", "/ok", nil)
	a.failing, _ = e.createEndpoint(t, "a", "/fail", map[string]any{"max_attempts": 1})
	e.publish(t, "a", "post.created", 2)
	var ok, failed apiPage[apiDeliveryJSON]
	e.mustDo(t, "GET", "/api/deliveries?state=succeeded", "a", nil, 200, &ok)
	e.mustDo(t, "GET", "/api/deliveries?state=failed", "a", nil, 200, &failed)
	if len(ok.Data) != 1 || len(failed.Data) != 1 {
		t.Fatalf("want one succeeded and one failed delivery, got %d and %d", len(ok.Data), len(failed.Data))
	}
	a.delivery, a.failedDelivery = ok.Data[0].ID, failed.Data[0].ID
	return a
}

// TestAPITenantIsolation: tenant b, on every route, never sees nor
// changes tenant a's objects: a's IDs read as 404 and lists hold only b's.
func TestAPITenantIsolation(t *testing.T) {
	e := apiSetup(t)
	a := apiSeedA(t, e)
	bEndpoint, _ := e.createEndpoint(t, "b", "/ok", nil)
	snapshot := func() string {
		t.Helper()
		var s strings.Builder
		for _, p := range []string{"/api/endpoints", "/api/deliveries",
			"/api/deliveries/" + a.delivery + "/attempts", "/api/deliveries/" + a.failedDelivery + "/attempts"} {
			_, body := e.do(t, "GET", p, "a", nil)
			s.Write(body)
		}
		return s.String()
	}
	before, hits := snapshot(), e.hits.Load()
	since := map[string]any{"since": "2000-01-01T00:00:00Z"}
	type call struct {
		path string
		body any
		want int
	}
	// Every route of apiRouteTable, called by b with a's IDs.
	cases := map[string][]call{
		"GET /api/endpoints":  {{"/api/endpoints", nil, 200}},
		"POST /api/endpoints": {{"/api/endpoints", map[string]any{"url": e.recv.URL + "/ok"}, 201}},
		"GET /api/endpoints/{id}": {
			{"/api/endpoints/" + a.endpoint, nil, 404}, {"/api/endpoints/" + a.failing, nil, 404}},
		"PUT /api/endpoints/{id}": {{"/api/endpoints/" + a.endpoint, map[string]any{"url": e.recv.URL + "/b"}, 404}},
		"DELETE /api/endpoints/{id}": {
			{"/api/endpoints/" + a.endpoint, nil, 404}, {"/api/endpoints/" + a.failing, nil, 404}},
		"POST /api/endpoints/{id}/enable":        {{"/api/endpoints/" + a.failing + "/enable", nil, 404}},
		"POST /api/endpoints/{id}/disable":       {{"/api/endpoints/" + a.endpoint + "/disable", map[string]any{"reason": "b"}, 404}},
		"POST /api/endpoints/{id}/rotate-secret": {{"/api/endpoints/" + a.endpoint + "/rotate-secret", nil, 404}},
		"POST /api/endpoints/{id}/test":          {{"/api/endpoints/" + a.endpoint + "/test", nil, 404}},
		"POST /api/endpoints/{id}/recover":       {{"/api/endpoints/" + a.failing + "/recover", since, 404}},
		"GET /api/deliveries": {
			{"/api/deliveries", nil, 200},
			{"/api/deliveries?state=failed&event_type=post.created", nil, 200},
			{"/api/deliveries?endpoint_id=" + a.endpoint, nil, 404},
			{"/api/deliveries?endpoint_id=" + a.failing + "&state=failed", nil, 404}},
		"GET /api/deliveries/{id}": {
			{"/api/deliveries/" + a.delivery, nil, 404}, {"/api/deliveries/" + a.failedDelivery, nil, 404}},
		"GET /api/deliveries/{id}/attempts": {
			{"/api/deliveries/" + a.delivery + "/attempts", nil, 404}, {"/api/deliveries/" + a.failedDelivery + "/attempts", nil, 404}},
		"POST /api/deliveries/{id}/redeliver": {
			{"/api/deliveries/" + a.delivery + "/redeliver", nil, 404}, {"/api/deliveries/" + a.failedDelivery + "/redeliver", nil, 404}},
		"GET /api/event-types":  {{"/api/event-types", nil, 200}},
		"GET /api/openapi.json": {{"/api/openapi.json", nil, 200}},
	}
	aIDs := []string{a.endpoint, a.failing, a.delivery, a.failedDelivery}
	for _, rt := range apiRouteTable {
		key := rt.Method + " " + rt.Path
		calls, ok := cases[key]
		if !ok {
			t.Errorf("route %s has no tenant-isolation case: add one", key)
			continue
		}
		delete(cases, key)
		t.Run(key, func(t *testing.T) {
			for _, c := range calls {
				if got, _ := apiRouteOf(httptest.NewRequest(rt.Method, apiBase+strings.Split(c.path, "?")[0], nil)); got.Path != rt.Path {
					t.Fatalf("case %s is not a request for route %s", c.path, key)
				}
				status, body := e.do(t, rt.Method, c.path, "b", c.body)
				if status != c.want {
					t.Errorf("%s %s as b: status %d, want %d: %s", rt.Method, c.path, status, c.want, body)
				}
				for _, id := range aIDs {
					if strings.Contains(string(body), id) {
						t.Errorf("%s %s as b shows a's object %s: %s", rt.Method, c.path, id, body)
					}
				}
			}
		})
	}
	for key := range cases {
		t.Errorf("isolation case %s names no route of apiRouteTable", key)
	}
	if after := snapshot(); after != before {
		t.Errorf("tenant b changed tenant a's data:\nbefore %s\nafter  %s", before, after)
	}
	if got := e.hits.Load(); got != hits {
		t.Errorf("tenant b made a's endpoint receive %d requests", got-hits)
	}
	// b's own objects are still b's to use.
	e.mustDo(t, "GET", "/api/endpoints/"+bEndpoint, "b", nil, 200, nil)
	var list apiList[apiEndpointJSON]
	e.mustDo(t, "GET", "/api/endpoints", "b", nil, 200, &list)
	if len(list.Data) != 2 {
		t.Errorf("b lists %d endpoints, want its 2", len(list.Data))
	}
}
