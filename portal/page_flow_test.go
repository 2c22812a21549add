package portal

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
)

var pageSecretRE = regexp.MustCompile(`value="(whsec_[^"]+)"`)

func TestPageCreateShowsSecretOnce(t *testing.T) {
	env := newPageEnv(t, "/hooks", nil)
	pc := env.signIn(t, "acme")
	resp, body := pc.post("/endpoints", url.Values{"name": {"prod"}, "url": {"http://127.0.0.1:9/hook?key=TOPSECRETKEY"},
		"method": {"PUT"}, "content_type": {webhook.ContentTypeJSON}, "events_text": {"post.created, post.*"}, "active": {"1"}})
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	m := pageSecretRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no secret on the creation page: %s", body)
	}
	secret := m[1]
	if strings.Contains(body, "TOPSECRETKEY") {
		t.Fatal("the URL's key is shown")
	}
	for _, c := range resp.Cookies() {
		if strings.Contains(c.Value, secret) {
			t.Fatal("the secret is in a cookie")
		}
	}
	eps, err := env.d.ListEndpoints(context.Background(), "acme")
	if err != nil || len(eps) != 1 || eps[0].Method != http.MethodPut || len(eps[0].Events) != 2 || eps[0].Disabled {
		t.Fatalf("stored %+v, %v", eps, err)
	}
	for _, path := range []string{"/", "/endpoints/" + eps[0].ID} {
		_, body := pc.get(path)
		if strings.Contains(body, secret) || strings.Contains(body, "TOPSECRETKEY") || strings.Contains(body, "whsec_") {
			t.Fatalf("%s shows a secret", path)
		}
		if !strings.Contains(body, "http://127.0.0.1:9/hook?REDACTED") {
			t.Fatalf("%s does not show the redacted URL", path)
		}
	}

	t.Run("rotate shows the new secret once", func(t *testing.T) {
		resp, body := pc.post("/endpoints/"+eps[0].ID+"/rotate", url.Values{"grace": {"1h"}})
		m := pageSecretRE.FindStringSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil || m[1] == secret || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("status %d, secret %v", resp.StatusCode, m)
		}
		if _, body := pc.get("/endpoints/" + eps[0].ID); strings.Contains(body, m[1]) {
			t.Fatal("the endpoint page shows the rotated secret")
		}
	})
	t.Run("inactive", func(t *testing.T) {
		resp, _ := pc.post("/endpoints", url.Values{"name": {"later"}, "url": {"http://127.0.0.1:9/b"}})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("status %d", resp.StatusCode)
		}
		eps, _ := env.d.ListEndpoints(context.Background(), "acme")
		if len(eps) != 2 || !eps[1].Inactive || eps[1].Disabled {
			t.Fatalf("the second endpoint is not paused (inactive, not disabled): %+v", eps)
		}
	})
}

func TestPageFormErrors(t *testing.T) {
	env := newPageEnv(t, "", []EventType{{Name: "post.created", Description: "A post was published."}, {Name: "post.deleted"}})
	pc := env.signIn(t, "acme")
	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{"no URL", url.Values{"name": {"x"}}, `id="new-url-err"`},
		{"bad max attempts", url.Values{"url": {"http://127.0.0.1:9/"}, "max_attempts": {"99"}}, "Enter a whole number from 1 to 50"},
		{"bad method", url.Values{"url": {"http://127.0.0.1:9/"}, "method": {"DELETE"}}, "oh-field-error"},
		{"short secret", url.Values{"url": {"http://127.0.0.1:9/"}, "secret": {"short"}}, "16 to 256 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := pc.post("/endpoints", tt.form)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, tt.want) {
				t.Fatalf("status %d, body lacks %q:\n%s", resp.StatusCode, tt.want, body)
			}
			if s := tt.form.Get("secret"); s != "" && strings.Contains(body, s) {
				t.Fatal("the form shows the typed secret back")
			}
		})
	}
	t.Run("catalogue checkboxes", func(t *testing.T) {
		resp, _ := pc.post("/endpoints", url.Values{"url": {"http://127.0.0.1:9/"}, "events": {"post.deleted", "not.listed"}})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("status %d", resp.StatusCode)
		}
		eps, _ := env.d.ListEndpoints(context.Background(), "acme")
		if len(eps) != 1 || len(eps[0].Events) != 1 || eps[0].Events[0] != "post.deleted" {
			t.Fatalf("events %+v", eps)
		}
	})
}

func TestPageRejectsForgedPosts(t *testing.T) {
	env := newPageEnv(t, "", nil)
	pc := env.signIn(t, "acme")
	ep := env.createEndpoint(t, "acme", "prod", "http://127.0.0.1:9/")
	tests := []struct {
		name string
		form url.Values
		hdr  []string
	}{
		{"no token", url.Values{"csrf": {""}}, nil},
		{"another tenant's token", url.Values{"csrf": {env.h.csrfToken("other")}}, nil},
		{"cross-site", nil, []string{"Sec-Fetch-Site", "cross-site"}},
		{"foreign origin", nil, []string{"Origin", "https://evil.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := pc.post("/endpoints/"+ep.ID+"/disable", tt.form, tt.hdr...)
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if got, _ := env.d.GetEndpoint(context.Background(), ep.ID); got.Disabled {
				t.Fatal("a forged post disabled the endpoint")
			}
		})
	}
}

func TestPageTenantIsolation(t *testing.T) {
	env := newPageEnv(t, "/w", nil)
	a := env.signIn(t, "tenant-a")
	env.createEndpoint(t, "tenant-a", "a-endpoint", "http://127.0.0.1:9/a")
	epB := env.createEndpoint(t, "tenant-b", "b-secret-name", "http://127.0.0.1:9/b")
	env.publish(t, "tenant-b", "post.created", 1)
	ds, _, _ := env.d.ListDeliveries(context.Background(), webhook.DeliveryFilter{TenantID: "tenant-b"})
	if len(ds) != 1 {
		t.Fatalf("deliveries %d", len(ds))
	}
	if _, body := a.get("/"); strings.Contains(body, "b-secret-name") || !strings.Contains(body, "a-endpoint") {
		t.Fatal("tenant A's list is wrong")
	}
	gets := []string{"/endpoints/" + epB.ID, "/endpoints/" + epB.ID + "?state=pending", "/deliveries/" + ds[0].ID}
	for _, path := range gets {
		t.Run("GET "+path, func(t *testing.T) {
			resp, body := a.get(path)
			if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "b-secret-name") {
				t.Fatalf("status %d", resp.StatusCode)
			}
		})
	}
	posts := []struct {
		path string
		form url.Values
	}{
		{"/endpoints/" + epB.ID, url.Values{"name": {"hijacked"}, "url": {"http://127.0.0.1:9/x"}}},
		{"/endpoints/" + epB.ID + "/disable", nil},
		{"/endpoints/" + epB.ID + "/enable", nil},
		{"/endpoints/" + epB.ID + "/rotate", url.Values{"grace": {"0"}}},
		{"/endpoints/" + epB.ID + "/test", nil},
		{"/endpoints/" + epB.ID + "/recover", url.Values{"since": {"2026-03-01T00:00"}}},
		{"/endpoints/" + epB.ID + "/delete", nil},
		{"/deliveries/" + ds[0].ID + "/redeliver", nil},
	}
	for _, p := range posts {
		t.Run("POST "+p.path, func(t *testing.T) {
			resp, body := a.post(p.path, p.form)
			if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "b-secret-name") || strings.Contains(body, "whsec_") {
				t.Fatalf("status %d", resp.StatusCode)
			}
		})
	}
	got, err := env.d.GetEndpoint(context.Background(), epB.ID)
	if err != nil || got.Name != "b-secret-name" || got.Disabled {
		t.Fatalf("tenant B's endpoint changed: %+v, %v", got, err)
	}
}

func TestPageActions(t *testing.T) {
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte("thanks"))
	}))
	t.Cleanup(receiver.Close)
	env := newPageEnv(t, "", nil)
	pc := env.signIn(t, "acme")
	ep := env.createEndpoint(t, "acme", "prod", receiver.URL+"/hook")
	path := "/endpoints/" + ep.ID
	expectRedirect := func(t *testing.T, resp *http.Response, to string) {
		t.Helper()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != to {
			t.Fatalf("status %d, Location %q; want 303 to %q", resp.StatusCode, resp.Header.Get("Location"), to)
		}
	}
	t.Run("send test", func(t *testing.T) {
		resp, body := pc.post(path+"/test", nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Test event: delivered") || !strings.Contains(body, "202") || !strings.Contains(body, "thanks") {
			t.Fatalf("status %d:\n%s", resp.StatusCode, body)
		}
	})
	t.Run("disable", func(t *testing.T) {
		resp, _ := pc.post(path+"/disable", nil)
		expectRedirect(t, resp, path+"?done=disabled")
		_, body := pc.get(path + "?done=disabled")
		if !strings.Contains(body, "oh-badge-disabled") || !strings.Contains(body, "disabled manually") || !strings.Contains(body, `role="status"`) {
			t.Fatal("the page does not show the endpoint disabled")
		}
	})
	t.Run("recover while disabled", func(t *testing.T) {
		resp, _ := pc.post(path+"/recover", url.Values{"since": {"2026-03-01T00:00"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("enable", func(t *testing.T) {
		resp, _ := pc.post(path+"/enable", nil)
		expectRedirect(t, resp, path+"?done=enabled")
		if got, _ := env.d.GetEndpoint(context.Background(), ep.ID); got.Disabled {
			t.Fatal("still disabled")
		}
	})
	t.Run("recover", func(t *testing.T) {
		resp, _ := pc.post(path+"/recover", url.Values{"since": {"2026-03-01T00:00"}})
		expectRedirect(t, resp, path+"?done=recovered0")
		resp, _ = pc.post(path+"/recover", url.Values{"since": {"yesterday"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("edit keeps a redacted URL", func(t *testing.T) {
		keyed := env.createEndpoint(t, "acme", "keyed", "http://127.0.0.1:9/k?key=abc")
		resp, _ := pc.post("/endpoints/"+keyed.ID, url.Values{"name": {"renamed"}, "url": {keyed.RedactedURL()}, "max_attempts": {"3"}})
		expectRedirect(t, resp, "/endpoints/"+keyed.ID+"?done=updated")
		got, _ := env.d.GetEndpoint(context.Background(), keyed.ID)
		if got.Name != "renamed" || got.URL != "http://127.0.0.1:9/k?key=abc" || got.MaxAttempts != 3 {
			t.Fatalf("updated %+v", got)
		}
	})
	t.Run("redeliver", func(t *testing.T) {
		env.publish(t, "acme", "post.created", 1)
		ds, _, _ := env.d.ListDeliveries(context.Background(), webhook.DeliveryFilter{TenantID: "acme", EndpointID: ep.ID})
		_, body := pc.get("/deliveries/" + ds[0].ID)
		if !strings.Contains(body, "No attempt yet") || strings.Contains(body, "Redeliver") {
			t.Fatal("a pending delivery offers a redelivery")
		}
		resp, _ := pc.post("/deliveries/"+ds[0].ID+"/redeliver", nil)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("redeliver a pending delivery: status %d", resp.StatusCode)
		}
	})
	t.Run("delete", func(t *testing.T) {
		resp, _ := pc.post(path+"/delete", nil)
		expectRedirect(t, resp, "/?done=deleted")
		if resp, _ := pc.get(path); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}

func TestPageDeliveryLog(t *testing.T) {
	env := newPageEnv(t, "", nil)
	pc := env.signIn(t, "acme")
	ep := env.createEndpoint(t, "acme", "prod", "http://127.0.0.1:9/")
	env.publish(t, "acme", "post.created", 30)
	env.publish(t, "acme", "post.deleted", 2)
	env.publish(t, "other", "post.created", 5)
	rows := regexp.MustCompile(`<tr class="oh-delivery"`)
	tests := []struct {
		query string
		rows  int
		next  bool
	}{
		{"", 25, true},
		{"?type=post.deleted", 2, false},
		{"?state=pending&type=post.created", 25, true},
		{"?state=succeeded", 0, false},
		{"?state=bogus", 25, true}, // an unknown state is ignored
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp, body := pc.get("/endpoints/" + ep.ID + tt.query)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if n := len(rows.FindAllString(body, -1)); n != tt.rows {
				t.Fatalf("%d rows, want %d", n, tt.rows)
			}
			if got := strings.Contains(body, `rel="next"`); got != tt.next {
				t.Fatalf("next link %v", got)
			}
		})
	}
	t.Run("second page", func(t *testing.T) {
		_, body := pc.get("/endpoints/" + ep.ID)
		m := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(body)
		resp, body := pc.get(strings.TrimPrefix(strings.ReplaceAll(m[1], "&amp;", "&"), env.base))
		if resp.StatusCode != http.StatusOK || len(rows.FindAllString(body, -1)) != 7 || strings.Contains(body, `rel="next"`) {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("bad cursor", func(t *testing.T) {
		if resp, _ := pc.get("/endpoints/" + ep.ID + "?cursor=zzz"); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}

func TestPageChart(t *testing.T) {
	env := newPageEnv(t, "", nil)
	ep := env.createEndpoint(t, "acme", "prod", "http://127.0.0.1:9/")
	start := env.now
	env.now = start.Add(-30 * time.Hour) // outside the window
	env.publish(t, "acme", "x.old", 3)
	env.now = start.Add(-2 * time.Hour)
	env.publish(t, "acme", "x.a", 4)
	env.now = start
	env.publish(t, "acme", "x.b", 1)
	c, err := env.h.pageChartFor(context.Background(), "acme", ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Total != 5 || c.Pending != 5 || c.Capped || c.TotalLabel() != "5" {
		t.Fatalf("chart %+v", c)
	}
	if b := c.Bars[len(c.Bars)-1]; b.Pending != 1 || b.PendH < 1 {
		t.Fatalf("last bar %+v", b)
	}
	if b := c.Bars[len(c.Bars)-3]; b.Pending != 4 || b.PendH != pageChartHeight {
		t.Fatalf("bar of two hours ago %+v", b)
	}
	if c, _ := env.h.pageChartFor(context.Background(), "other", ep.ID); c.Total != 0 {
		t.Fatal("another tenant's chart counts this endpoint's deliveries")
	}
	t.Run("capped", func(t *testing.T) {
		env.publish(t, "acme", "x.c", pageChartCap)
		c, err := env.h.pageChartFor(context.Background(), "acme", ep.ID)
		if err != nil || !c.Capped || c.TotalLabel() != "2000+" {
			t.Fatalf("chart %+v, %v", c, err)
		}
		_, body := env.signIn(t, "acme").get("/")
		if !strings.Contains(body, "2000&#43;") || !strings.Contains(body, `role="img"`) {
			t.Fatalf("the list does not say 2000+: %s", body)
		}
	})
}

// The endpoint page reads Dispatcher.Stats: what waits to be delivered,
// since when, and the last day's attempts.
func TestPageShowsBacklogFromStats(t *testing.T) {
	env := newPageEnv(t, "", nil)
	ep := env.createEndpoint(t, "acme", "hook", "http://127.0.0.1:9/h")
	env.publish(t, "acme", "post.created", 3) // the Dispatcher is not started: they wait
	pc := env.signIn(t, "acme")
	_, body := pc.get("/endpoints/" + ep.ID)
	for _, want := range []string{"Waiting to be delivered", "<dd>3 <span", "Attempts, last 24 h", "0 succeeded, 0 failed"} {
		if !strings.Contains(body, want) {
			t.Errorf("the endpoint page lacks %q", want)
		}
	}
}
