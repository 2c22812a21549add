package portal

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
)

// themeName is what a theme variable may be called: the page's own
// variables all start with --oh-.
var themeName = regexp.MustCompile(`^--oh-[a-z0-9-]{1,40}$`)

// checkTheme validates the variables of Config.Theme or Config.DarkTheme:
// a value may not close the declaration or the rule it sits in.
func checkTheme(field string, theme map[string]string) error {
	for name, value := range theme {
		if !themeName.MatchString(name) {
			return fmt.Errorf("portal: Config.%s: %q is not a page variable: use --oh-accent, --oh-bg, --oh-fg, --oh-font, --oh-radius, …", field, name)
		}
		if value == "" || len(value) > 200 || strings.ContainsAny(value, ";{}<>\\\"\n\r") {
			return fmt.Errorf("portal: Config.%s[%q]: use a plain CSS value of at most 200 bytes without ; { } < > \\ \" or line breaks", field, name)
		}
	}
	return nil
}

// themeCSS is the stylesheet Config.Theme and Config.DarkTheme make: it
// follows the page's own stylesheet, so its values win in both themes.
func (h *Handler) themeCSS() string {
	var b strings.Builder
	rule := func(selector string, theme map[string]string) {
		if len(theme) == 0 {
			return
		}
		names := make([]string, 0, len(theme))
		for n := range theme {
			names = append(names, n)
		}
		sort.Strings(names)
		b.WriteString(selector + " {\n")
		for _, n := range names {
			b.WriteString("  " + n + ": " + theme[n] + ";\n")
		}
		b.WriteString("}\n")
	}
	rule(":root, :root[data-theme=\"light\"]", h.cfg.Theme)
	if len(h.cfg.DarkTheme) > 0 {
		b.WriteString("@media (prefers-color-scheme: dark) {\n")
		rule(":root:not([data-theme=\"light\"])", h.cfg.DarkTheme)
		b.WriteString("}\n")
		rule(":root[data-theme=\"dark\"]", h.cfg.DarkTheme)
	}
	return b.String()
}

// serveTheme serves themeCSS at /theme.css.
func (h *Handler) serveTheme(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write([]byte(h.themeCSS()))
}
