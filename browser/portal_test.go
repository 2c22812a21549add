package browser

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	webhook "github.com/outhook/webhook"
)

func TestCreateShowsSecretOnce(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := newBrowser(t)
	e.signIn(t, ctx, "acme")
	recv := receiver(t)

	err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#new-name"), "Production"),
		chromedp.SendKeys(chromedp.CSS("#new-url"), recv+"/hook?key=URLKEY123"),
		chromedp.SendKeys(chromedp.CSS("#new-events"), "post.created, post.*"),
	)
	if err != nil {
		t.Fatal(err)
	}
	resp := submit(t, ctx, "form.oh-form button[type=submit]")
	if resp.Status != http.StatusCreated {
		t.Fatalf("create: status %d", resp.Status)
	}
	if cc := resp.Headers["Cache-Control"]; cc != "no-store" {
		t.Fatalf("the secret page has Cache-Control %q", cc)
	}
	secret := eval[string](t, ctx, `document.getElementById("oh-secret-value").value`)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q", secret)
	}
	if loc := eval[string](t, ctx, "location.href"); strings.Contains(loc, secret) {
		t.Fatal("the secret is in the URL")
	}
	if strings.Contains(text(t, ctx, "body"), "URLKEY123") {
		t.Fatal("the URL's key is shown")
	}

	submit(t, ctx, "a.oh-button.oh-primary") // Done: the endpoint's page
	if h := pageHTML(t, ctx); strings.Contains(h, secret) || !strings.Contains(h, "Production") {
		t.Fatal("the endpoint page shows the secret, or not the endpoint")
	}
	navigate(t, ctx, e.url("/"))
	if _, err := chromedp.RunResponse(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	h := pageHTML(t, ctx)
	if strings.Contains(h, secret) || strings.Contains(h, "whsec_") || strings.Contains(h, "URLKEY123") {
		t.Fatal("the list shows a secret after a reload")
	}
	if !strings.Contains(text(t, ctx, ".oh-endpoint .oh-url"), "/hook?REDACTED") {
		t.Fatal("the list does not show the redacted URL")
	}
	for _, c := range eval[[]string](t, ctx, `document.cookie.split("; ")`) {
		if strings.Contains(c, secret) {
			t.Fatal("the secret is in a cookie")
		}
	}
}

func TestSendTestEventAndLog(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := newBrowser(t)
	e.signIn(t, ctx, "acme")
	ep, _ := e.createEndpoint(t, webhook.EndpointParams{TenantID: "acme", Name: "Production", URL: receiver(t) + "/hook"})

	navigate(t, ctx, e.url("/endpoints/"+ep.ID))
	resp := submit(t, ctx, `form[action$="/test"] button`)
	if resp.Status != http.StatusOK {
		t.Fatalf("send test: status %d", resp.Status)
	}
	result := text(t, ctx, ".oh-test-result")
	if !strings.Contains(result, "Test event: delivered") || !strings.Contains(result, "200") {
		t.Fatalf("test result %q", result)
	}

	e.publish(t, "acme", "post.created", map[string]string{"title": "Hello"})
	eventually(t, "the delivery", func() bool { return e.settled("acme") })
	navigate(t, ctx, e.url("/endpoints/"+ep.ID))
	row := text(t, ctx, "tr.oh-delivery")
	if !strings.Contains(row, "post.created") || !strings.Contains(row, "succeeded") {
		t.Fatalf("log row %q", row)
	}
	submit(t, ctx, "tr.oh-delivery a")
	att := text(t, ctx, ".oh-attempt")
	if !strings.Contains(att, "Attempt 1: succeeded") || !strings.Contains(att, "200") {
		t.Fatalf("attempt %q", att)
	}
}

func TestDisabledByDeadReceiverThenReenabled(t *testing.T) {
	e := newEnv(t, envOptions{disableAfter: 2})
	ctx := newBrowser(t)
	e.signIn(t, ctx, "acme")
	ep, _ := e.createEndpoint(t, webhook.EndpointParams{TenantID: "acme", Name: "Legacy server", URL: deadURL(t), MaxAttempts: 1})

	e.publish(t, "acme", "post.created", map[string]int{"n": 1})
	e.publish(t, "acme", "post.created", map[string]int{"n": 2})
	eventually(t, "the endpoint to be disabled", func() bool {
		got, err := e.d.GetEndpoint(context.Background(), ep.ID)
		return err == nil && got.Disabled
	})

	navigate(t, ctx, e.url("/"))
	if b := text(t, ctx, ".oh-endpoint .oh-badge"); !strings.EqualFold(b, "Disabled") {
		t.Fatalf("badge %q", b)
	}
	reason := text(t, ctx, ".oh-endpoint .oh-disabled-reason")
	if !strings.Contains(reason, "Disabled:") || len(reason) < len("Disabled: x") {
		t.Fatalf("reason %q", reason)
	}
	if f := text(t, ctx, ".oh-endpoint .oh-chart-legend"); !strings.Contains(f, "2 failed") {
		t.Fatalf("chart legend %q", f)
	}
	color := eval[string](t, ctx, `getComputedStyle(document.querySelector(".oh-badge-disabled")).backgroundColor`)
	if color == "rgba(0, 0, 0, 0)" {
		t.Fatal("the Disabled badge has no background")
	}
	setScheme(t, ctx, "light")
	screenshot(t, ctx, "disabled-light.png")

	navigate(t, ctx, e.url("/endpoints/"+ep.ID))
	resp := submit(t, ctx, `form[action$="/enable"] button`)
	if resp.Status != http.StatusOK {
		t.Fatalf("enable: status %d", resp.Status)
	}
	if !strings.HasSuffix(eval[string](t, ctx, "location.pathname"), "/endpoints/"+ep.ID) {
		t.Fatal("enable did not come back to the endpoint's page")
	}
	if n := text(t, ctx, ".oh-notice"); !strings.Contains(n, "enabled again") {
		t.Fatalf("notice %q", n)
	}
	if b := text(t, ctx, ".oh-endpoint-head .oh-badge"); !strings.EqualFold(b, "Active") {
		t.Fatalf("badge after enabling %q", b)
	}
	if got, _ := e.d.GetEndpoint(context.Background(), ep.ID); got.Disabled {
		t.Fatal("the endpoint is still disabled")
	}
}

func TestFilterLog(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := newBrowser(t)
	e.signIn(t, ctx, "acme")
	ep, _ := e.createEndpoint(t, webhook.EndpointParams{TenantID: "acme", Name: "Production", URL: receiver(t), MaxAttempts: 1})
	for _, ev := range []struct{ typ, what string }{
		{"post.created", "ok"}, {"post.created", "fail"}, {"post.deleted", "ok"},
		{"post.created", "ok"}, {"post.deleted", "fail"},
	} {
		e.publish(t, "acme", ev.typ, map[string]string{"outcome": ev.what})
	}
	eventually(t, "every delivery", func() bool { return e.settled("acme") })

	navigate(t, ctx, e.url("/endpoints/"+ep.ID))
	rowCount := func() int { return eval[int](t, ctx, `document.querySelectorAll("tr.oh-delivery").length`) }
	if n := rowCount(); n != 5 {
		t.Fatalf("%d rows unfiltered", n)
	}
	tests := []struct {
		name, state, typ string
		rows             int
	}{
		{"failed", "failed", "", 2},
		{"succeeded", "succeeded", "", 3},
		{"failed deletions", "failed", "post.deleted", 1},
		{"pending", "pending", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			navigate(t, ctx, e.url("/endpoints/"+ep.ID))
			setValue(t, ctx, "#oh-f-state", tt.state)
			setValue(t, ctx, "#oh-f-type", tt.typ)
			submit(t, ctx, "form.oh-filter button")
			if n := rowCount(); n != tt.rows {
				t.Fatalf("%d rows, want %d", n, tt.rows)
			}
			states := eval[[]string](t, ctx, `[...document.querySelectorAll("tr.oh-delivery")].map(r => r.dataset.state)`)
			for _, s := range states {
				if s != tt.state {
					t.Fatalf("a %s row under the %s filter", s, tt.state)
				}
			}
			if q := eval[string](t, ctx, "location.search"); !strings.Contains(q, "state="+tt.state) {
				t.Fatalf("the filter is not in the URL: %q", q)
			}
			if tt.rows == 0 && !strings.Contains(text(t, ctx, "#log .oh-empty"), "No deliveries match") {
				t.Fatal("no empty-filter message")
			}
		})
	}
}

func TestRotateSecret(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := newBrowser(t)
	e.signIn(t, ctx, "acme")
	ep, old := e.createEndpoint(t, webhook.EndpointParams{TenantID: "acme", Name: "Production", URL: receiver(t)})

	navigate(t, ctx, e.url("/endpoints/"+ep.ID))
	setValue(t, ctx, "#oh-grace", "0")
	resp := submit(t, ctx, `form[action$="/rotate"] button`)
	if resp.Status != http.StatusOK || resp.Headers["Cache-Control"] != "no-store" {
		t.Fatalf("rotate: status %d, headers %v", resp.Status, resp.Headers)
	}
	secret := eval[string](t, ctx, `document.getElementById("oh-secret-value").value`)
	if !strings.HasPrefix(secret, "whsec_") || secret == old {
		t.Fatalf("new secret %q", secret)
	}
	if !strings.Contains(text(t, ctx, ".oh-secret"), "stops working now") {
		t.Fatal("the page does not say what happens to the old secret")
	}
	submit(t, ctx, "a.oh-button.oh-primary")
	if _, err := chromedp.RunResponse(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	if h := pageHTML(t, ctx); strings.Contains(h, secret) || strings.Contains(h, old) {
		t.Fatal("the endpoint page shows a secret after rotation")
	}
}

func TestTenantCannotSeeAnother(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := newBrowser(t)
	e.signIn(t, ctx, "tenant-a")
	e.createEndpoint(t, webhook.EndpointParams{TenantID: "tenant-a", Name: "alpha-hook", URL: receiver(t)})
	epB, _ := e.createEndpoint(t, webhook.EndpointParams{TenantID: "tenant-b", Name: "b-private-endpoint", URL: receiver(t)})
	e.publish(t, "tenant-b", "post.created", map[string]string{"secret": "b-payload"})
	eventually(t, "tenant B's delivery", func() bool { return e.settled("tenant-b") })
	ds, _, err := e.d.ListDeliveries(context.Background(), webhook.DeliveryFilter{TenantID: "tenant-b"})
	if err != nil || len(ds) != 1 {
		t.Fatalf("tenant B's deliveries: %v, %v", ds, err)
	}

	navigate(t, ctx, e.url("/"))
	if h := pageHTML(t, ctx); strings.Contains(h, "b-private-endpoint") || !strings.Contains(h, "alpha-hook") {
		t.Fatal("tenant A's list is wrong")
	}
	for _, path := range []string{
		"/endpoints/" + epB.ID,
		"/endpoints/" + epB.ID + "?state=succeeded",
		"/deliveries/" + ds[0].ID,
	} {
		t.Run(path, func(t *testing.T) {
			resp := navigate(t, ctx, e.url(path))
			if resp.Status != http.StatusNotFound {
				t.Fatalf("status %d", resp.Status)
			}
			if h := pageHTML(t, ctx); strings.Contains(h, "b-private-endpoint") || strings.Contains(h, "b-payload") {
				t.Fatal("tenant B's data on tenant A's page")
			}
		})
	}

	// Tenant B, in another browser, sees its own endpoint.
	ctxB := newBrowser(t)
	e.signIn(t, ctxB, "tenant-b")
	if h := pageHTML(t, ctxB); !strings.Contains(h, "b-private-endpoint") || strings.Contains(h, "alpha-hook") {
		t.Fatal("tenant B's list is wrong")
	}
}

// TestOrderedEndpointShowsLimitAndWhatWaits: an ordered, rate-limited
// webhook whose first delivery failed and waits an hour for its retry
// (the limit allows one attempt an hour): its page shows the limit and
// the order, the log shows the second delivery waiting for the first,
// and the links lead from the waiting delivery to the one it waits for.
func TestOrderedEndpointShowsLimitAndWhatWaits(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := newBrowser(t)
	e.signIn(t, ctx, "acme")
	ep, _ := e.createEndpoint(t, webhook.EndpointParams{TenantID: "acme", Name: "Partner API", URL: receiver(t) + "/hook",
		Ordered: true, RateLimit: webhook.RateLimit{PerSecond: webhook.MinRatePerSecond}})

	e.publish(t, "acme", "post.created", map[string]string{"outcome": "fail"})
	var head *webhook.Delivery
	eventually(t, "the first delivery's failed attempt", func() bool {
		ds, _, err := e.d.ListDeliveries(context.Background(), webhook.DeliveryFilter{TenantID: "acme"})
		if err != nil || len(ds) != 1 || ds[0].Attempts < 1 {
			return false
		}
		head = ds[0]
		return true
	})
	e.publish(t, "acme", "post.created", map[string]string{"outcome": "ok"})
	var second *webhook.Delivery
	eventually(t, "the second delivery to wait for the first", func() bool {
		ds, _, _ := e.d.ListDeliveries(context.Background(), webhook.DeliveryFilter{TenantID: "acme"})
		for _, d := range ds {
			if d.ID != head.ID && d.BlockedBy == head.ID {
				second = d
			}
		}
		return second != nil
	})

	navigate(t, ctx, e.url("/endpoints/"+ep.ID))
	if s := text(t, ctx, ".oh-rate-limit dd"); s != "at most 1 attempt/h, no bursts" {
		t.Fatalf("rate limit %q", s)
	}
	if s := text(t, ctx, ".oh-ordered dd"); s != "Ordered: deliveries go one at a time in publish order" {
		t.Fatalf("order %q", s)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("tr.oh-delivery .oh-waiting").length`); n != 1 {
		t.Fatalf("%d log rows say they wait, want 1", n)
	}
	if s := text(t, ctx, "tr.oh-delivery .oh-waiting"); s != "waiting for "+head.ID {
		t.Fatalf("waiting row %q", s)
	}
	if resp := submit(t, ctx, "tr.oh-delivery .oh-waiting a"); resp.Status != http.StatusOK {
		t.Fatalf("the waiting link: status %d", resp.Status)
	}
	if p := eval[string](t, ctx, "location.pathname"); p != basePath+"/deliveries/"+head.ID {
		t.Fatalf("the waiting link leads to %s, not the first delivery", p)
	}
	if eval[bool](t, ctx, `document.querySelector(".oh-waiting") !== null`) {
		t.Fatal("the first delivery's page says it waits")
	}

	navigate(t, ctx, e.url("/deliveries/"+second.ID))
	if s := text(t, ctx, ".oh-waiting"); !strings.HasPrefix(s, "Waiting for "+head.ID+": ") {
		t.Fatalf("the second delivery's page says %q", s)
	}
	submit(t, ctx, ".oh-waiting a")
	if p := eval[string](t, ctx, "location.pathname"); p != basePath+"/deliveries/"+head.ID {
		t.Fatalf("the waiting link leads to %s, not the first delivery", p)
	}
}
