package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/portal"
)

// testApp is the application behind a real HTTP server.
type testApp struct {
	*app
	srv *httptest.Server
}

func startApp(t *testing.T, opts options) *testApp {
	t.Helper()
	a, err := newApp(context.Background(), opts)
	if err != nil {
		t.Fatalf("newApp: %v", err)
	}
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &testApp{app: a, srv: srv}
}

// client is a browser of one user: it keeps cookies and does not follow
// redirects, so the tests see them.
func (ta *testApp) client(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// do sends a request and returns the response with its body read.
func do(t *testing.T, c *http.Client, method, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// wantStatus fails unless resp has status want.
func wantStatus(t *testing.T, what string, resp *http.Response, body string, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s: status %d, want %d\n%s", what, resp.StatusCode, want, body)
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// verifiedOf reports whether tenant's receiver verified an event of type typ.
func (ta *testApp) verifiedOf(tenant, typ string) bool {
	for _, r := range ta.receiver.received(tenant) {
		if r.Verified && r.Type == typ {
			return true
		}
	}
	return false
}

func TestSaaS(t *testing.T) {
	ctx := context.Background()
	ta := startApp(t, options{DBPath: filepath.Join(t.TempDir(), "saas.db")})
	acme, globex := ta.client(t), ta.client(t)

	t.Run("sign in", func(t *testing.T) {
		for _, tc := range []struct {
			c      *http.Client
			tenant string
		}{{acme, "acme"}, {globex, "globex"}} {
			resp, body := do(t, tc.c, "GET", ta.srv.URL+"/login/"+tc.tenant, nil)
			wantStatus(t, "login", resp, body, http.StatusSeeOther)
			_, home := do(t, tc.c, "GET", ta.srv.URL+"/", nil)
			if !strings.Contains(home, "Signed in as <strong>"+tc.tenant+"</strong>") {
				t.Fatalf("home page of %s does not say who is signed in:\n%s", tc.tenant, home)
			}
		}
		resp, body := do(t, ta.client(t), "GET", ta.srv.URL+"/login/initech", nil)
		wantStatus(t, "login as an unknown tenant", resp, body, http.StatusNotFound)
	})

	t.Run("Config.Tenant reads the sign-in cookie", func(t *testing.T) {
		good := (&http.Cookie{Name: loginCookie, Value: "acme." + ta.loginMAC("acme")}).String()
		for _, tc := range []struct {
			name, cookie, want string
		}{
			{"signed", good, "acme"},
			{"none", "", ""},
			{"forged", loginCookie + "=globex." + ta.loginMAC("acme"), ""},
			{"garbage", loginCookie + "=acme", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := httptest.NewRequest("GET", "/settings/webhooks/", nil)
				if tc.cookie != "" {
					r.Header.Set("Cookie", tc.cookie)
				}
				got, err := ta.tenant(r)
				if got != tc.want || (tc.want == "") != errors.Is(err, portal.ErrUnauthenticated) {
					t.Fatalf("tenant = %q, %v; want %q", got, err, tc.want)
				}
			})
		}
	})

	t.Run("a post reaches the receiver the app connected", func(t *testing.T) {
		resp, body := do(t, acme, "POST", ta.srv.URL+"/receiver/connect", url.Values{})
		wantStatus(t, "connect", resp, body, http.StatusSeeOther)
		eps, err := ta.d.ListEndpoints(ctx, "acme")
		if err != nil || len(eps) != 1 || eps[0].URL != ta.receiver.endpointURL("acme") {
			t.Fatalf("acme's endpoints = %v, %v; want one to the demo receiver", eps, err)
		}
		resp, body = do(t, acme, "POST", ta.srv.URL+"/posts", url.Values{"title": {"Hello from acme"}})
		wantStatus(t, "create post", resp, body, http.StatusSeeOther)
		eventually(t, "acme's receiver to verify post.created", func() bool { return ta.verifiedOf("acme", "post.created") })

		resp, body = do(t, acme, "POST", ta.srv.URL+"/posts/1/vote", url.Values{})
		wantStatus(t, "vote", resp, body, http.StatusSeeOther)
		eventually(t, "acme's receiver to verify vote.cast", func() bool { return ta.verifiedOf("acme", "vote.cast") })

		eventually(t, "both deliveries to be recorded as succeeded", func() bool {
			ds, _, err := ta.d.ListDeliveries(ctx, webhook.DeliveryFilter{TenantID: "acme", EndpointID: eps[0].ID})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, d := range ds {
				if d.State == webhook.StateSucceeded && d.TenantID == "acme" {
					n++
				}
			}
			return n == 2
		})
		_, home := do(t, acme, "GET", ta.srv.URL+"/", nil)
		for _, want := range []string{"Hello from acme", "✓ verified", "post.created", "vote.cast"} {
			if !strings.Contains(home, want) {
				t.Errorf("acme's home page lacks %q", want)
			}
		}
	})

	t.Run("a secret pasted from the portal verifies", func(t *testing.T) {
		// As a customer does on the webhooks page: an endpoint to the demo
		// receiver, whose secret is shown once and pasted into the receiver.
		ep, secret, err := ta.d.CreateEndpoint(ctx, webhook.EndpointParams{
			TenantID: "globex", Name: "mine", URL: ta.receiver.endpointURL("globex"), Events: []string{"post.*"}})
		if err != nil {
			t.Fatal(err)
		}
		resp, body := do(t, globex, "POST", ta.srv.URL+"/receiver/secret", url.Values{"secret": {secret}})
		wantStatus(t, "paste secret", resp, body, http.StatusSeeOther)
		resp, body = do(t, globex, "POST", ta.srv.URL+"/posts", url.Values{"title": {"Globex news"}})
		wantStatus(t, "create post", resp, body, http.StatusSeeOther)
		eventually(t, "globex's receiver to verify post.created", func() bool { return ta.verifiedOf("globex", "post.created") })
		ds, _, err := ta.d.ListDeliveries(ctx, webhook.DeliveryFilter{TenantID: "globex", EndpointID: ep.ID})
		if err != nil || len(ds) != 1 || ds[0].EventType != "post.created" {
			t.Fatalf("globex's deliveries = %v, %v; want one post.created", ds, err)
		}
	})

	t.Run("tenants are apart", func(t *testing.T) {
		_, home := do(t, globex, "GET", ta.srv.URL+"/", nil)
		if strings.Contains(home, "Hello from acme") {
			t.Fatalf("globex's home page shows acme's post:\n%s", home)
		}
		if a, g := len(ta.receiver.received("acme")), len(ta.receiver.received("globex")); a != 2 || g != 1 {
			t.Fatalf("the receivers got %d (acme) and %d (globex) deliveries, want 2 and 1", a, g)
		}
		// acme's post 1 is not globex's to vote on.
		resp, body := do(t, globex, "POST", ta.srv.URL+"/posts/1/vote", url.Values{})
		wantStatus(t, "globex votes on acme's post", resp, body, http.StatusNotFound)
	})

	t.Run("the app's forms refuse strangers", func(t *testing.T) {
		resp, body := do(t, ta.client(t), "POST", ta.srv.URL+"/posts", url.Values{})
		wantStatus(t, "create post signed out", resp, body, http.StatusUnauthorized)
		req, _ := http.NewRequest("POST", ta.srv.URL+"/posts", strings.NewReader(""))
		req.Header.Set("Origin", "https://evil.example")
		resp, err := acme.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site post: status %d, want 403", resp.StatusCode)
		}
	})

	t.Run("the portal is mounted at /settings/webhooks", func(t *testing.T) {
		resp, body := do(t, acme, "GET", ta.srv.URL+"/settings/webhooks", nil)
		wantStatus(t, "the prefix", resp, body, http.StatusMovedPermanently)
		if loc := resp.Header.Get("Location"); loc != "/settings/webhooks/" {
			t.Fatalf("the prefix redirects to %q", loc)
		}
		// A portal link, as the home page shows it: the portal itself
		// answers, sets its session cookie and sends the browser on.
		link, err := ta.portal.NewSessionURL("globex", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		_, home := do(t, ta.client(t), "GET", ta.srv.URL+"/", nil)
		if !strings.Contains(home, `href="/settings/webhooks/session?token=Z2xvYmV4.`) { // base64url("globex")
			t.Errorf("the home page shows no portal link for globex")
		}
		visitor := ta.client(t)
		resp, body = do(t, visitor, "GET", ta.srv.URL+link, nil)
		wantStatus(t, "portal link", resp, body, http.StatusSeeOther)
		if loc := resp.Header.Get("Location"); loc != "/settings/webhooks/" {
			t.Fatalf("the portal link redirects to %q", loc)
		}
		var session *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == portal.SessionCookieDefault {
				session = c
			}
		}
		if session == nil || session.Path != "/settings/webhooks" || !session.HttpOnly {
			t.Fatalf("the portal link set no session cookie: %v", resp.Cookies())
		}
		resp, body = do(t, visitor, "GET", ta.srv.URL+"/settings/webhooks/session?token=forged", nil)
		wantStatus(t, "forged portal link", resp, body, http.StatusUnauthorized)

		// Switching tenant in the app ends the link's session.
		resp, _ = do(t, visitor, "GET", ta.srv.URL+"/login/acme", nil)
		cleared := false
		for _, c := range resp.Cookies() {
			cleared = cleared || (c.Name == portal.SessionCookieDefault && c.MaxAge < 0)
		}
		if !cleared {
			t.Fatalf("signing in did not clear the portal session: %v", resp.Cookies())
		}
	})
}

// TestSaaSPostgres runs the same flow on PostgreSQL when a server is
// given (scripts/with-postgres.sh sets OUTHOOK_TEST_POSTGRES_URL).
func TestSaaSPostgres(t *testing.T) {
	u := os.Getenv("OUTHOOK_TEST_POSTGRES_URL")
	if u == "" {
		t.Skip("no PostgreSQL: run through scripts/with-postgres.sh")
	}
	ta := startApp(t, options{PostgresURL: u})
	c := ta.client(t)
	do(t, c, "GET", ta.srv.URL+"/login/acme", nil)
	resp, body := do(t, c, "POST", ta.srv.URL+"/receiver/connect", url.Values{})
	wantStatus(t, "connect", resp, body, http.StatusSeeOther)
	resp, body = do(t, c, "POST", ta.srv.URL+"/posts", url.Values{"title": {"Hello from PostgreSQL"}})
	wantStatus(t, "create post", resp, body, http.StatusSeeOther)
	eventually(t, "acme's receiver to verify post.created", func() bool { return ta.verifiedOf("acme", "post.created") })
	resp, body = do(t, c, "GET", ta.srv.URL+"/", nil)
	wantStatus(t, "home", resp, body, http.StatusOK)
	if !strings.Contains(body, "Hello from PostgreSQL") {
		t.Fatalf("the home page does not list the post:\n%s", body)
	}
}
