package portal

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	webhook "github.com/outhook/webhook"
)

// The page: server-rendered HTML at BasePath+"/", its forms posting back
// to the same handler (CSRF token + same-site check, then 303 See Other),
// and its stylesheet and script served from the embedded static/ folder.
// The page_*.go files hold the handlers, form parsing and the chart.

//go:embed templates/*.html
var pageTemplateFS embed.FS

//go:embed static
var pageStaticFS embed.FS

// pageTemplates holds one template set per page, each with the layout.
var pageTemplates = pageParse()

// pageCSP is the Content-Security-Policy of every page: nothing but the
// portal's own stylesheet and script, no inline script, forms posting
// only to the portal. It sets no frame-ancestors: the page is meant to be
// embedded in the host application.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'"

func pageParse() map[string]*template.Template {
	funcs := template.FuncMap{
		"when":     pageWhen,
		"duration": pageDuration,
		"join":     strings.Join,
		"inc":      func(i int) int { return i + 1 },
		"list":     func(s ...string) []string { return s },
		"formData": func(csrf string, f *pageForm) map[string]any { return map[string]any{"CSRF": csrf, "Form": f} },
	}
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(pageTemplateFS, "templates/layout.html", "templates/_*.html"))
	pages := map[string]*template.Template{}
	names, err := fs.Glob(pageTemplateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" || strings.HasPrefix(base, "_") {
			continue
		}
		pages[base] = template.Must(template.Must(layout.Clone()).ParseFS(pageTemplateFS, n))
	}
	return pages
}

// pageRoutes registers the page's routes (relative to BasePath).
func (h *Handler) pageRoutes() {
	static, err := fs.Sub(pageStaticFS, "static")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix("/static/", http.FileServer(http.FS(static)))
	h.mux.Handle("GET /static/", pageStaticHeaders(files))

	h.mux.HandleFunc("GET /{$}", h.pageAuth(h.pageList))
	h.mux.HandleFunc("POST /endpoints", h.pagePost(h.pageCreate))
	h.mux.HandleFunc("GET /endpoints/{id}", h.pageAuth(h.pageEndpoint))
	h.mux.HandleFunc("POST /endpoints/{id}", h.pagePost(h.pageUpdate))
	h.mux.HandleFunc("POST /endpoints/{id}/enable", h.pagePost(h.pageEnable))
	h.mux.HandleFunc("POST /endpoints/{id}/disable", h.pagePost(h.pageDisable))
	h.mux.HandleFunc("POST /endpoints/{id}/rotate", h.pagePost(h.pageRotate))
	h.mux.HandleFunc("POST /endpoints/{id}/test", h.pagePost(h.pageTest))
	h.mux.HandleFunc("POST /endpoints/{id}/delete", h.pagePost(h.pageDelete))
	h.mux.HandleFunc("POST /endpoints/{id}/recover", h.pagePost(h.pageRecover))
	h.mux.HandleFunc("GET /deliveries/{id}", h.pageAuth(h.pageDelivery))
	h.mux.HandleFunc("POST /deliveries/{id}/redeliver", h.pagePost(h.pageRedeliver))
}

// pageStaticHeaders marks the embedded assets: cacheable for a while (they
// change only with the binary) and never sniffed.
func pageStaticHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// pageHandler is a page handler that knows its tenant.
type pageHandler func(w http.ResponseWriter, r *http.Request, tenant string)

// pageAuth resolves the tenant of a GET, or renders the sign-in page.
func (h *Handler) pageAuth(next pageHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tenant, err := h.tenant(r)
		if err != nil {
			h.pageError(w, r, err)
			return
		}
		next(w, r, tenant)
	}
}

// pagePost resolves the tenant of a form post and checks that it comes
// from the portal's own page: same site, with the tenant's CSRF token.
func (h *Handler) pagePost(next pageHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tenant, err := h.tenant(r)
		if err != nil {
			h.pageError(w, r, err)
			return
		}
		if crossSite(r) || !h.checkCSRF(r, tenant) {
			var mbe *http.MaxBytesError
			if err := r.ParseForm(); errors.As(err, &mbe) {
				h.pageError(w, r, err)
				return
			}
			h.pageStatus(w, r, http.StatusForbidden, "This form has expired or did not come from this page. Go back, reload the page and try again.")
			return
		}
		next(w, r, tenant)
	}
}

// pageData is what every page template receives.
type pageData struct {
	Title   string // the page's <title> and heading
	Heading string // heading of this page, under the title
	Base    string // BasePath, for links
	Themed  bool   // Config.Theme or DarkTheme is set: link theme.css
	CSRF    string // the tenant's CSRF token, for forms
	Tenant  string
	Notice  string // a status message after an action
	Body    any    // the page's own data
}

// pageRender renders page with body and the security headers every page
// carries.
func (h *Handler) pageRender(w http.ResponseWriter, r *http.Request, status int, page, tenant, heading string, body any) {
	d := pageData{Title: h.cfg.Title, Heading: heading, Base: h.cfg.BasePath, Tenant: tenant, Body: body,
		Themed: len(h.cfg.Theme)+len(h.cfg.DarkTheme) > 0,
		Notice: pageNotices[r.URL.Query().Get("done")]}
	if tenant != "" {
		d.CSRF = h.csrfToken(tenant)
	}
	var buf bytes.Buffer
	if err := pageTemplates[page].ExecuteTemplate(&buf, "layout.html", d); err != nil {
		h.cfg.Logger.ErrorContext(r.Context(), "portal: render page", "page", page, "err", err)
		pageHeaders(w)
		http.Error(w, "The page could not be shown.", http.StatusInternalServerError)
		return
	}
	pageHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// pageHeaders sets the headers of every HTML response.
func pageHeaders(w http.ResponseWriter) {
	noStore(w)
	w.Header().Set("Content-Security-Policy", pageCSP)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
}

// pageNotices are the status messages a redirect after an action may ask
// for with ?done=: a fixed set, so a link cannot make the page say
// anything else.
var pageNotices = map[string]string{
	"created":     "The webhook was created.",
	"updated":     "Your changes were saved.",
	"enabled":     "The webhook is enabled again. Deliveries that failed meanwhile stay failed: recover them below.",
	"disabled":    "The webhook is disabled. Nothing is delivered to it until you enable it.",
	"deleted":     "The webhook was deleted.",
	"recovered":   "The failed deliveries were queued again.",
	"recovered0":  "There were no failed deliveries to recover in that period.",
	"redelivered": "The delivery was queued again.",
}

// pageRedirect answers a successful form post: 303 to a page, with a
// notice.
func (h *Handler) pageRedirect(w http.ResponseWriter, r *http.Request, path, done string) {
	u := h.link(path)
	if done != "" {
		u += "?done=" + done
	}
	noStore(w)
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// pageErrorBody is the body of the error page.
type pageErrorBody struct {
	Status  int
	Message string
	SignIn  bool
}

// pageError renders the page for an error of the Dispatcher or of
// authentication.
func (h *Handler) pageError(w http.ResponseWriter, r *http.Request, err error) {
	p := h.problemFor(r, err)
	msg := p.Detail
	switch p.Status {
	case http.StatusUnauthorized:
		msg = "You are not signed in. Sign in to the application, or open a new portal link, to manage your webhooks."
	case http.StatusForbidden:
		msg = "You may not manage these webhooks."
	case http.StatusNotFound:
		msg = "There is no such webhook or delivery. It may have been deleted."
	case http.StatusInternalServerError:
		msg = "Something went wrong on our side. Try again in a moment."
	}
	h.pageStatus(w, r, p.Status, msg)
}

// pageStatus renders the error page with status and msg.
func (h *Handler) pageStatus(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h.pageRender(w, r, status, "error.html", "", http.StatusText(status),
		pageErrorBody{Status: status, Message: msg, SignIn: status == http.StatusUnauthorized})
}

// pageWhen formats a time for the page: UTC, to the second; "never" for
// the zero time.
func pageWhen(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// pageDuration formats an attempt's duration.
func pageDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}

// pageIsNotFound reports whether err means the object is not the
// tenant's.
func pageIsNotFound(err error) bool { return errors.Is(err, webhook.ErrNotFound) }
