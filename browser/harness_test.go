package browser

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
	"github.com/outhook/webhook/portal"
)

// basePath is where the tests mount the portal, as a host app would.
const basePath = "/settings/webhooks"

// chromiumPath finds the browser, or skips the test (fails under CI=true).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("OUTHOOK_CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p == "" {
			continue
		}
		if found, err := exec.LookPath(p); err == nil {
			return found
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed: scripts/ensure-chromium.sh (make chromium) installs it")
	}
	t.Skip("chromium is not installed; run scripts/ensure-chromium.sh (as root) to run the browser tests")
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile and returns a
// tab's context, closed at the end of the test.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	if err := chromedp.Do(tab); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return tab
}

// env is the portal of a small SaaS: a memstore Dispatcher that delivers
// for real (to local receivers) and the portal mounted at basePath.
type env struct {
	d      *webhook.Dispatcher
	p      *portal.Handler
	srv    *httptest.Server
	mu     sync.Mutex
	offset time.Duration // added to the real time: lets a test publish "hours ago"
}

// envOptions tune the Dispatcher of an env.
type envOptions struct {
	disableAfter int
	catalogue    []portal.EventType
}

// newEnv starts the Dispatcher and serves the portal.
func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	e := &env{}
	if o.disableAfter == 0 {
		o.disableAfter = 50
	}
	d, err := webhook.NewDispatcher(memstore.New(), &webhook.Config{
		AllowPrivateNetworks: true,
		Retry:                webhook.FixedSchedule(20*time.Millisecond, 20*time.Millisecond),
		DisableAfter:         o.disableAfter,
		PollInterval:         20 * time.Millisecond,
		RequestTimeout:       2 * time.Second,
		Clock:                e.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = d.Shutdown(sctx)
		cancel()
	})
	p, err := portal.New(d, &portal.Config{
		BasePath:   basePath,
		SessionKey: []byte("0123456789abcdef0123456789abcdef-browser-tests"),
		Title:      "Webhooks",
		EventTypes: o.catalogue,
		Clock:      e.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(basePath+"/", p)
	e.d, e.p, e.srv = d, p, httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// now is the clock of the Dispatcher and the portal.
func (e *env) now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return time.Now().Add(e.offset)
}

// at runs f with the clock moved by offset (negative: in the past).
func (e *env) at(offset time.Duration, f func()) {
	e.mu.Lock()
	e.offset = offset
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.offset = 0
		e.mu.Unlock()
	}()
	f()
}

// url is the absolute URL of a portal path.
func (e *env) url(path string) string { return e.srv.URL + basePath + path }

// signIn opens a portal link for tenant in the browser.
func (e *env) signIn(t *testing.T, ctx context.Context, tenant string) {
	t.Helper()
	link, err := e.p.NewSessionURL(tenant, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp := navigate(t, ctx, e.srv.URL+link)
	if resp.Status != http.StatusOK {
		t.Fatalf("portal link landed on status %d", resp.Status)
	}
}

// createEndpoint adds an endpoint through the Dispatcher and returns its
// secret too.
func (e *env) createEndpoint(t *testing.T, p webhook.EndpointParams) (*webhook.Endpoint, string) {
	t.Helper()
	ep, secret, err := e.d.CreateEndpoint(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return ep, secret
}

// publish publishes one event.
func (e *env) publish(t *testing.T, tenant, typ string, data any) {
	t.Helper()
	if _, err := e.d.Publish(context.Background(), webhook.Event{Type: typ, TenantID: tenant, Data: data}); err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond until it holds, or fails the test after a while:
// the Dispatcher delivers in the background.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// settled reports whether tenant has no pending delivery.
func (e *env) settled(tenant string) bool {
	ds, _, err := e.d.ListDeliveries(context.Background(), webhook.DeliveryFilter{TenantID: tenant, State: webhook.StatePending})
	return err == nil && len(ds) == 0
}

// receiver answers 200 "ok", or 500 to a body that mentions "fail".
func receiver(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [4096]byte
		n, _ := r.Body.Read(b[:])
		if strings.Contains(string(b[:n]), "fail") {
			http.Error(w, `{"error":"database unavailable"}`, http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte(`{"received":true}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// deadURL is a URL where nothing listens.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/webhooks"
}

// navigate loads url and returns the response of the document.
func navigate(t *testing.T, ctx context.Context, url string) *network.Response {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(url))
	if err != nil {
		t.Fatalf("navigate %s: %v", url, err)
	}
	return resp
}

// submit clicks a form's button and waits for the page it leads to.
func submit(t *testing.T, ctx context.Context, button string) *network.Response {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(button)))
	if err != nil {
		t.Fatalf("click %s: %v", button, err)
	}
	return resp
}

// text returns the visible text of the first element sel matches.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// setValue sets the value of a form field, as choosing an option or
// typing would.
func setValue(t *testing.T, ctx context.Context, sel, value string) {
	t.Helper()
	js := fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.value = %q; return el.value; })()`, sel, value)
	if got := eval[string](t, ctx, js); got != value {
		t.Fatalf("%s: value %q, want %q", sel, got, value)
	}
}

// pageHTML is the whole document as the browser has it.
func pageHTML(t *testing.T, ctx context.Context) string {
	t.Helper()
	return eval[string](t, ctx, "document.documentElement.outerHTML")
}

// setScheme emulates prefers-color-scheme.
func setScheme(t *testing.T, ctx context.Context, scheme string) {
	t.Helper()
	_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	})
	if err != nil {
		t.Fatalf("emulate %s: %v", scheme, err)
	}
}

// screenshot saves a full-page PNG as name under the screenshots folder
// and returns its path.
func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := filepath.Join("testdata", "screenshots")
	if a := os.Getenv("OUTHOOK_ARTIFACTS"); a != "" {
		dir = filepath.Join(a, "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return path
}
