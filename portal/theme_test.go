package portal

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
)

func TestThemeIsServedAndLinked(t *testing.T) {
	d, err := webhook.NewDispatcher(memstore.New(), nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(d, &Config{
		BasePath:   "/settings/webhooks",
		SessionKey: []byte(strings.Repeat("k", 32)),
		Theme:      map[string]string{"--oh-accent": "#0f766e", "--oh-font": "Inter, sans-serif"},
		DarkTheme:  map[string]string{"--oh-accent": "#5eead4"},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Get(srv.URL + "/settings/webhooks/theme.css")
	if err != nil {
		t.Fatal(err)
	}
	css, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if ct := res.Header.Get("Content-Type"); res.StatusCode != 200 || !strings.HasPrefix(ct, "text/css") {
		t.Fatalf("theme.css: %d %q", res.StatusCode, ct)
	}
	for _, want := range []string{"--oh-accent: #0f766e;", "--oh-font: Inter, sans-serif;", "--oh-accent: #5eead4;", "prefers-color-scheme: dark", `[data-theme="dark"]`} {
		if !strings.Contains(string(css), want) {
			t.Errorf("theme.css lacks %q:\n%s", want, css)
		}
	}

	env := newPageEnv(t, "", nil)
	_, page := env.signIn(t, "acme").get("/")
	if strings.Contains(page, "theme.css") {
		t.Error("a page without Config.Theme links theme.css")
	}
	env.h.cfg.Theme = map[string]string{"--oh-accent": "red"}
	_, page = env.signIn(t, "acme").get("/")
	if !strings.Contains(page, `href="/theme.css"`) {
		t.Error("a themed page does not link theme.css")
	}
}

func TestThemeRejectsWhatWouldBreakOut(t *testing.T) {
	d, err := webhook.NewDispatcher(memstore.New(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, theme := range []map[string]string{
		{"color": "red"},
		{"--oh-accent": "red; } body { display: none"},
		{"--oh-accent": "</style><script>"},
		{"--oh-accent": ""},
		{"--oh-Accent": "red"},
	} {
		if _, err := New(d, &Config{SessionKey: []byte(strings.Repeat("k", 32)), Theme: theme}); err == nil {
			t.Errorf("New accepted Theme %v", theme)
		}
		if _, err := New(d, &Config{SessionKey: []byte(strings.Repeat("k", 32)), DarkTheme: theme}); err == nil {
			t.Errorf("New accepted DarkTheme %v", theme)
		}
	}
}
