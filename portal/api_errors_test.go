package portal

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAPIProblems: refused requests answer application/problem+json
// (checked against openapi.json in send) with the right status and, for
// rejected fields, the field's JSON name.
func TestAPIProblems(t *testing.T) {
	e := apiSetup(t)
	id, _ := e.createEndpoint(t, "a", "/ok", nil)
	off, _ := e.createEndpoint(t, "a", "/ok", nil)
	e.mustDo(t, "POST", "/api/endpoints/"+off+"/disable", "a", nil, 200, nil)
	url := e.recv.URL + "/ok"
	ep := "/api/endpoints/" + id
	big := `{"name":"` + strings.Repeat("x", 5000) + `","url":"` + url + `"}`
	tests := []struct {
		name, method, path string
		header             map[string]string // X-Tenant a and Content-Type JSON unless given
		body               string
		want               int
		field              string // the field errors must name
	}{
		{"no identity", "GET", "/api/endpoints", map[string]string{"X-Tenant": ""}, "", 401, ""},
		{"no identity on a change", "POST", "/api/endpoints", map[string]string{"X-Tenant": ""}, `{"url":"` + url + `"}`, 401, ""},
		{"tenant refused", "GET", "/api/deliveries", map[string]string{"X-Tenant": "forbidden"}, "", 403, ""},
		{"cross-site", "POST", "/api/endpoints", map[string]string{"Sec-Fetch-Site": "cross-site"}, `{"url":"` + url + `"}`, 403, ""},
		{"cross-site delete", "DELETE", ep, map[string]string{"Sec-Fetch-Site": "same-site"}, "", 403, ""},
		{"foreign origin", "PUT", ep, map[string]string{"Origin": "https://evil.example"}, `{"url":"` + url + `"}`, 403, ""},
		{"text/plain", "POST", "/api/endpoints", map[string]string{"Content-Type": "text/plain"}, `{"url":"` + url + `"}`, 415, ""},
		{"no content type", "POST", ep + "/enable", map[string]string{"Content-Type": ""}, "", 415, ""},
		{"form", "POST", ep + "/disable", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "reason=x", 415, ""},
		{"too large", "POST", "/api/endpoints", nil, big, 413, ""},
		{"unknown field", "POST", "/api/endpoints", nil, `{"url":"` + url + `","colour":"red"}`, 400, "colour"},
		{"unknown field on an action", "POST", ep + "/rotate-secret", nil, `{"grace":5}`, 400, "grace"},
		{"wrong type", "POST", "/api/endpoints", nil, `{"url":"` + url + `","max_attempts":"3"}`, 400, "max_attempts"},
		{"not JSON", "PUT", ep, nil, `{"url":`, 400, ""},
		{"two values", "POST", ep + "/test", nil, `{} {}`, 400, ""},
		{"bad url", "POST", "/api/endpoints", nil, `{"url":"ftp://example.com"}`, 422, "url"},
		{"no url", "POST", "/api/endpoints", nil, `{}`, 422, "url"},
		{"bad method", "PUT", ep, nil, `{"url":"` + url + `","method":"GET"}`, 422, "method"},
		{"bad content type", "POST", "/api/endpoints", nil, `{"url":"` + url + `","content_type":"text/xml"}`, 422, "content_type"},
		{"too many attempts", "POST", "/api/endpoints", nil, `{"url":"` + url + `","max_attempts":99}`, 422, "max_attempts"},
		{"reserved header", "POST", "/api/endpoints", nil, `{"url":"` + url + `","headers":{"Content-Type":"x"}}`, 422, "headers"},
		{"unknown event type", "POST", "/api/endpoints", nil, `{"url":"` + url + `","events":["user.created"]}`, 422, "events"},
		{"secret on PUT", "PUT", ep, nil, `{"url":"` + url + `","secret":"0123456789abcdefghij"}`, 422, "secret"},
		{"negative grace", "POST", ep + "/rotate-secret", nil, `{"grace_seconds":-1}`, 422, "grace_seconds"},
		{"huge grace", "POST", ep + "/rotate-secret", nil, `{"grace_seconds":9223372036854775807}`, 422, "grace_seconds"},
		{"bad since", "POST", ep + "/recover", nil, `{"since":"yesterday"}`, 422, "since"},
		{"recover disabled", "POST", "/api/endpoints/" + off + "/recover", nil, `{"since":"2020-01-01T00:00:00Z"}`, 422, "endpoint"},
		{"long reason", "POST", ep + "/disable", nil, `{"reason":"` + strings.Repeat("r", 1001) + `"}`, 422, "reason"},
		{"bad state", "GET", "/api/deliveries?state=lost", nil, "", 422, "state"},
		{"bad limit", "GET", "/api/deliveries?limit=0", nil, "", 422, "limit"},
		{"bad cursor", "GET", "/api/deliveries?cursor=junk", nil, "", 422, "cursor"},
		{"no such endpoint", "GET", "/api/endpoints/nope", nil, "", 404, ""},
		{"no such delivery", "POST", "/api/deliveries/nope/redeliver", nil, "", 404, ""},
		{"no such route", "GET", "/api/nothing", nil, "", 404, ""},
		{"wrong method", "PATCH", ep, nil, `{}`, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, e.srv.URL+apiBase+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Tenant", "a")
			req.Header.Set("Content-Type", "application/json")
			for k, v := range tt.header {
				if v == "" {
					req.Header.Del(k)
				} else {
					req.Header.Set(k, v)
				}
			}
			status, body := e.send(t, req)
			if status != tt.want {
				t.Fatalf("status %d, want %d: %s", status, tt.want, body)
			}
			var p Problem
			if err := json.Unmarshal(body, &p); err != nil || p.Status != tt.want || p.Title == "" {
				t.Fatalf("not a problem for %d: %s", tt.want, body)
			}
			if tt.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tt.field || p.Errors[0].Reason == "") {
				t.Errorf("errors %+v, want one naming %q", p.Errors, tt.field)
			}
		})
	}
	// Nothing refused changed the endpoint.
	var got apiEndpointJSON
	e.mustDo(t, "GET", ep, "a", nil, 200, &got)
	if got.Disabled || got.Name != "a/ok" || got.URL != url {
		t.Errorf("a refused request changed the endpoint: %+v", got)
	}
}

// TestAPIRedactsURLSecret: a URL with ?key=secret reads redacted in every
// answer, and a credential header too.
func TestAPIRedactsURLSecret(t *testing.T) {
	e := apiSetup(t)
	id, _ := e.createEndpoint(t, "a", "/ok?key=hunter2hunter2", map[string]any{
		"name": "hook", "headers": map[string]string{"X-Api-Key": "k-123456"},
	})
	var got apiEndpointJSON
	e.mustDo(t, "GET", "/api/endpoints/"+id, "a", nil, 200, &got)
	if want := e.recv.URL + "/ok?REDACTED"; got.URL != want {
		t.Errorf("url %q, want %q", got.URL, want)
	}
	if got.Headers["X-Api-Key"] != apiRedacted {
		t.Errorf("headers %v, want X-Api-Key redacted", got.Headers)
	}
	e.mustDo(t, "GET", "/api/endpoints", "a", nil, 200, nil)
	e.mustDo(t, "POST", "/api/endpoints/"+id+"/disable", "a", nil, 200, nil)
	// A new URL replaces the stored one; a new header value too.
	e.mustDo(t, "PUT", "/api/endpoints/"+id, "a", map[string]any{
		"url": e.recv.URL + "/ok?key=other0other0", "headers": map[string]string{"X-Api-Key": "k-654321"},
	}, 200, &got)
	stored, err := e.d.GetEndpoint(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if stored.URL != e.recv.URL+"/ok?key=other0other0" || stored.Headers.Get("X-Api-Key") != "k-654321" {
		t.Errorf("stored %q %v", stored.URL, stored.Headers)
	}
	e.assertNoSecrets(t, nil, []string{"hunter2hunter2", "other0other0", "k-123456", "k-654321"})
}

// TestAPIPortalSession: a portal link signs its holder in to the API
// without Config.Tenant's identity.
func TestAPIPortalSession(t *testing.T) {
	e := apiSetup(t)
	id, _ := e.createEndpoint(t, "a", "/ok", nil)
	link, err := e.h.NewSessionURL("a", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	client := e.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Get(e.srv.URL + link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("session answered %d cookies", len(cookies))
	}
	req, _ := http.NewRequest("GET", e.srv.URL+apiBase+"/api/endpoints/"+id, nil)
	req.AddCookie(cookies[0])
	if status, body := e.send(t, req); status != 200 {
		t.Errorf("with the session: %d %s", status, body)
	}
}
