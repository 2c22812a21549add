package browser

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/portal"
)

// seedScene gives tenant "acme" a realistic day: a healthy endpoint with
// a failing stretch some hours ago, one disabled against a dead receiver,
// and one just added. Events are published "in the past" through the
// injected clock, so the 24-hour charts have history.
func seedScene(t *testing.T, e *env) *webhook.Endpoint {
	t.Helper()
	recv := receiver(t)
	prod, _ := e.createEndpoint(t, webhook.EndpointParams{TenantID: "acme", Name: "Production", URL: recv + "/webhooks/outhook?key=k_live_93jd",
		Events: []string{"post.created", "post.deleted"}, MaxAttempts: 1})
	legacy, _ := e.createEndpoint(t, webhook.EndpointParams{TenantID: "acme", Name: "Legacy CRM sync", URL: deadURL(t), MaxAttempts: 1,
		Events: []string{"post.created"}})
	e.createEndpoint(t, webhook.EndpointParams{TenantID: "acme", Name: "Analytics (staging)", URL: recv + "/staging",
		Events: []string{"invoice.paid"}})
	for h := 23; h >= 0; h-- {
		n := 2 + (h*7)%5
		for i := 0; i < n; i++ {
			outcome := "ok"
			if h >= 5 && h <= 7 && i%2 == 0 {
				outcome = "fail"
			}
			typ := "post.created"
			if i%3 == 2 {
				typ = "post.deleted"
			}
			e.at(-time.Duration(h)*time.Hour-time.Duration(i)*time.Minute, func() {
				e.publish(t, "acme", typ, map[string]string{"outcome": outcome, "title": "Post"})
			})
		}
		eventually(t, "the hour's deliveries", func() bool { return e.settled("acme") })
	}
	eventually(t, "the legacy endpoint to be disabled", func() bool {
		ep, err := e.d.GetEndpoint(context.Background(), legacy.ID)
		return err == nil && ep.Disabled
	})
	return prod
}

func TestScreenshotsLightAndDark(t *testing.T) {
	e := newEnv(t, envOptions{disableAfter: 4, catalogue: []portal.EventType{
		{Name: "post.created", Description: "A post was published."},
		{Name: "post.deleted", Description: "A post was deleted."},
		{Name: "invoice.paid", Description: "An invoice was paid."},
	}})
	prod := seedScene(t, e)
	ctx := newBrowser(t)
	e.signIn(t, ctx, "acme")

	var light string
	for _, scheme := range []string{"light", "dark"} {
		setScheme(t, ctx, scheme)
		navigate(t, ctx, e.url("/"))
		bg := eval[string](t, ctx, `getComputedStyle(document.body).backgroundColor`)
		if (scheme == "dark") != (bg == "rgb(17, 18, 23)") {
			t.Fatalf("%s: body background %s", scheme, bg)
		}
		p := screenshot(t, ctx, "list-"+scheme+".png")
		if scheme == "light" {
			light = p
		}
		navigate(t, ctx, e.url("/endpoints/"+prod.ID))
		screenshot(t, ctx, "endpoint-"+scheme+".png")
	}

	t.Run("data-theme overrides the system", func(t *testing.T) {
		setScheme(t, ctx, "light")
		navigate(t, ctx, e.url("/"))
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("[data-oh-theme-toggle]"))); err != nil {
			t.Fatal(err)
		}
		if p := eval[string](t, ctx, `document.querySelector("[data-oh-theme-toggle]").getAttribute("aria-pressed")`); p != "true" {
			t.Fatalf("aria-pressed %q", p)
		}
		if th := eval[string](t, ctx, `document.documentElement.dataset.theme`); th != "dark" {
			t.Fatalf("data-theme %q", th)
		}
		if bg := eval[string](t, ctx, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(17, 18, 23)" {
			t.Fatalf("dark override: background %s", bg)
		}
		navigate(t, ctx, e.url("/")) // remembered across pages
		if th := eval[string](t, ctx, `document.documentElement.dataset.theme`); th != "dark" {
			t.Fatalf("data-theme after navigation %q", th)
		}
	})

	t.Run("accessible", func(t *testing.T) {
		for _, path := range []string{"/", "/endpoints/" + prod.ID} {
			navigate(t, ctx, e.url(path))
			unlabelled := eval[[]string](t, ctx, `[...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
				.filter(el => !el.labels || el.labels.length === 0).map(el => el.name || el.id)`)
			if len(unlabelled) > 0 {
				t.Errorf("%s: fields without a label: %v", path, unlabelled)
			}
			charts := eval[[]string](t, ctx, `[...document.querySelectorAll("svg")].map(s => s.getAttribute("role") + ":" + (s.getAttribute("aria-label") || ""))`)
			for _, c := range charts {
				if !strings.HasPrefix(c, "img:Deliveries in the last 24 hours") {
					t.Errorf("%s: chart without a text alternative: %q", path, c)
				}
			}
			// Tab reaches the skip link first, and focus is visible.
			focused := eval[string](t, ctx, `(() => { document.querySelector(".oh-skip").focus(); const s = getComputedStyle(document.activeElement); return document.activeElement.className + "|" + s.outlineStyle; })()`)
			if !strings.HasPrefix(focused, "oh-skip|") {
				t.Errorf("%s: focus %q", path, focused)
			}
		}
	})

	if os.Getenv("OUTHOOK_UPDATE_DOCS") == "1" && light != "" {
		b, err := os.ReadFile(light)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "docs", "portal.png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
