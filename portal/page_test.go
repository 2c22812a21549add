package portal

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
)

// pageEnv is a portal served over real HTTP with a memstore Dispatcher.
type pageEnv struct {
	d    *webhook.Dispatcher
	h    *Handler
	srv  *httptest.Server
	base string // the portal's BasePath
	now  time.Time
}

// newPageEnv serves a portal at base with the given catalogue; the
// Dispatcher is not started (deliveries stay pending) and its clock and
// the portal's are fixed at env.now.
func newPageEnv(t *testing.T, base string, catalogue []EventType) *pageEnv {
	t.Helper()
	env := &pageEnv{base: base, now: time.Date(2026, 3, 4, 12, 30, 0, 0, time.UTC)}
	clock := func() time.Time { return env.now }
	d, err := webhook.NewDispatcher(memstore.New(), &webhook.Config{AllowPrivateNetworks: true, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(d, &Config{BasePath: base, SessionKey: []byte(strings.Repeat("k", 32)), EventTypes: catalogue, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", h)
	env.d, env.h, env.srv = d, h, httptest.NewServer(mux)
	t.Cleanup(env.srv.Close)
	return env
}

// pageClient is a browser-like client signed in to one tenant.
type pageClient struct {
	t      *testing.T
	env    *pageEnv
	c      *http.Client
	tenant string
}

// signIn opens a portal link for tenant and returns a client that keeps
// its session cookie and does not follow redirects.
func (env *pageEnv) signIn(t *testing.T, tenant string) *pageClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	link, err := env.h.NewSessionURL(tenant, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(env.srv.URL + link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("portal link: status %d", resp.StatusCode)
	}
	return &pageClient{t: t, env: env, c: c, tenant: tenant}
}

// get fetches a portal path and returns the response and its body.
func (pc *pageClient) get(path string) (*http.Response, string) {
	pc.t.Helper()
	resp, err := pc.c.Get(pc.env.srv.URL + pc.env.base + path)
	if err != nil {
		pc.t.Fatal(err)
	}
	return resp, pageReadBody(pc.t, resp)
}

// post submits a form to a portal path with the tenant's CSRF token
// (unless form sets "csrf" itself).
func (pc *pageClient) post(path string, form url.Values, hdr ...string) (*http.Response, string) {
	pc.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", pc.env.h.csrfToken(pc.tenant))
	}
	req, err := http.NewRequest(http.MethodPost, pc.env.srv.URL+pc.env.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		pc.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := pc.c.Do(req)
	if err != nil {
		pc.t.Fatal(err)
	}
	return resp, pageReadBody(pc.t, resp)
}

func pageReadBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// createEndpoint adds an endpoint directly through the Dispatcher.
func (env *pageEnv) createEndpoint(t *testing.T, tenant, name, u string) *webhook.Endpoint {
	t.Helper()
	ep, _, err := env.d.CreateEndpoint(context.Background(), webhook.EndpointParams{TenantID: tenant, Name: name, URL: u})
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

// publish publishes n events of type typ for tenant.
func (env *pageEnv) publish(t *testing.T, tenant, typ string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := env.d.Publish(context.Background(), webhook.Event{Type: typ, TenantID: tenant, Data: map[string]int{"i": i}}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPageNeedsSignIn(t *testing.T) {
	env := newPageEnv(t, "/settings/webhooks", nil)
	anon := &pageClient{t: t, env: env, c: &http.Client{}}
	for _, path := range []string{"/", "/endpoints/x", "/deliveries/x"} {
		t.Run("GET "+path, func(t *testing.T) {
			resp, body := anon.get(path)
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not signed in") {
				t.Fatalf("status %d, body %q", resp.StatusCode, body)
			}
			if !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
			}
		})
	}
	t.Run("POST", func(t *testing.T) {
		resp, _ := anon.post("/endpoints", url.Values{"url": {"http://127.0.0.1:1/"}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}

func TestPageHeaders(t *testing.T) {
	env := newPageEnv(t, "/settings/webhooks", nil)
	pc := env.signIn(t, "acme")
	ep := env.createEndpoint(t, "acme", "prod", "http://127.0.0.1:9/hook")
	for _, path := range []string{"/", "/endpoints/" + ep.ID, "/endpoints/nope"} {
		t.Run(path, func(t *testing.T) {
			resp, _ := pc.get(path)
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q", got)
			}
			if got := resp.Header.Get("X-Frame-Options"); got != "" {
				t.Errorf("X-Frame-Options %q blocks embedding", got)
			}
			csp := resp.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "frame-ancestors") {
				t.Errorf("Content-Security-Policy %q", csp)
			}
		})
	}
	t.Run("static", func(t *testing.T) {
		for _, f := range []string{"/static/portal.css", "/static/portal.js"} {
			resp, body := pc.get(f)
			if resp.StatusCode != http.StatusOK || len(body) < 100 {
				t.Fatalf("%s: status %d", f, resp.StatusCode)
			}
		}
	})
}

// pageLinkRE finds the links and form actions of a page.
var pageLinkRE = regexp.MustCompile(`(?:href|action|src)="([^"]*)"`)

func TestPageLinksStayUnderBasePath(t *testing.T) {
	for _, base := range []string{"", "/settings/webhooks"} {
		t.Run("base="+base, func(t *testing.T) {
			env := newPageEnv(t, base, nil)
			pc := env.signIn(t, "acme")
			ep := env.createEndpoint(t, "acme", "prod", "http://127.0.0.1:9/hook")
			env.publish(t, "acme", "post.created", 1)
			ds, _, err := env.d.ListDeliveries(context.Background(), webhook.DeliveryFilter{TenantID: "acme"})
			if err != nil || len(ds) != 1 {
				t.Fatalf("deliveries %v, %v", ds, err)
			}
			for _, path := range []string{"/", "/endpoints/" + ep.ID, "/deliveries/" + ds[0].ID} {
				resp, body := pc.get(path)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s: status %d", path, resp.StatusCode)
				}
				for _, m := range pageLinkRE.FindAllStringSubmatch(body, -1) {
					link := strings.ReplaceAll(m[1], "&amp;", "&")
					if link == "#oh-main" {
						continue
					}
					if !strings.HasPrefix(link, base+"/") {
						t.Errorf("%s links to %q, outside %q", path, link, base)
					}
				}
			}
		})
	}
}
