package portal

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	webhook "github.com/outhook/webhook"
)

// Defaults of Config.
const (
	// MaxBodyBytesDefault bounds a request body the handler reads.
	MaxBodyBytesDefault = 64 << 10
	// SessionCookieDefault names the cookie a portal link sets.
	SessionCookieDefault = "outhook_portal"
	// TitleDefault heads the page.
	TitleDefault = "Webhooks"
)

// ErrUnauthenticated is what Config.Tenant returns (wrapped or not) when a
// request carries no identity; the handler answers 401. Any other error
// from Tenant is a 403.
var ErrUnauthenticated = errors.New("portal: not signed in")

// EventType describes one event type to the customer: the page lists it
// where endpoints choose their events, and the API serves the catalogue.
type EventType struct {
	Name        string // "post.created"
	Description string // one sentence for the customer
	// Example is a sample of the event's data, marshalled to JSON as it
	// would appear under "data". Optional.
	Example any
}

// Config configures a Handler. Tenant or SessionKey (or both) must be set:
// a request is allowed in only by one of them.
type Config struct {
	// Tenant maps a request to the tenant whose webhooks it may see and
	// change: the application's own authentication (its session cookie, a
	// JWT). Return ErrUnauthenticated when the request carries no
	// identity. Called for every request that has no portal session.
	// Defaults to nil: only portal links (NewSessionURL) let anyone in.
	Tenant func(r *http.Request) (string, error)
	// SessionKey signs portal links, their session cookies and the page's
	// CSRF tokens: at least 32 random bytes, the same in every instance.
	// Required.
	SessionKey []byte
	// BasePath is the path the handler is mounted at, e.g.
	// "/settings/webhooks"; the handler strips it itself and builds every
	// link under it. Defaults to "" (the root).
	BasePath string
	// EventTypes is the catalogue shown to customers. Defaults to none:
	// endpoints may name any type, and the page offers a free text field.
	EventTypes []EventType
	// Title heads the page. Defaults to TitleDefault.
	Title string
	// Theme sets the page's CSS variables to fit the host application,
	// e.g. {"--oh-accent": "#0f766e", "--oh-font": "Inter, sans-serif",
	// "--oh-radius": "4px"}; DarkTheme sets them for the dark theme. The
	// page serves them as a stylesheet of its own, so they reach it also
	// inside an iframe. Defaults to the page's own light and dark colours.
	Theme, DarkTheme map[string]string
	// MaxBodyBytes bounds every request body. Defaults to
	// MaxBodyBytesDefault.
	MaxBodyBytes int64
	// SessionCookie names the portal session cookie. Defaults to
	// SessionCookieDefault.
	SessionCookie string
	// Clock is the time source. Defaults to time.Now.
	Clock func() time.Time
	// Logger receives server-side errors (a Store that fails). Defaults to
	// discarding.
	Logger *slog.Logger
}

// Handler serves the webhooks portal: the JSON API under BasePath+"/api/"
// and the page at BasePath+"/". Create one with New.
type Handler struct {
	d   *webhook.Dispatcher
	cfg Config
	mux *http.ServeMux
}

// New returns a Handler over d. It reports configuration mistakes and
// says how to fix them.
func New(d *webhook.Dispatcher, cfg *Config) (*Handler, error) {
	if d == nil {
		return nil, errors.New("portal: New: dispatcher is nil")
	}
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if len(c.SessionKey) < 32 {
		return nil, errors.New("portal: Config.SessionKey must be at least 32 random bytes (crypto/rand), the same in every instance")
	}
	c.SessionKey = append([]byte(nil), c.SessionKey...)
	c.BasePath = strings.TrimRight(c.BasePath, "/")
	if c.BasePath != "" && !strings.HasPrefix(c.BasePath, "/") {
		return nil, fmt.Errorf("portal: Config.BasePath %q must start with /", c.BasePath)
	}
	if c.Title == "" {
		c.Title = TitleDefault
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = MaxBodyBytesDefault
	}
	if c.SessionCookie == "" {
		c.SessionCookie = SessionCookieDefault
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(discard{}, &slog.HandlerOptions{Level: slog.Level(127)}))
	}
	if err := checkTheme("Theme", c.Theme); err != nil {
		return nil, err
	}
	if err := checkTheme("DarkTheme", c.DarkTheme); err != nil {
		return nil, err
	}
	c.Theme, c.DarkTheme = cloneTheme(c.Theme), cloneTheme(c.DarkTheme)
	seen := map[string]bool{}
	for _, et := range c.EventTypes {
		if et.Name == "" || seen[et.Name] {
			return nil, fmt.Errorf("portal: Config.EventTypes: %q is empty or listed twice", et.Name)
		}
		seen[et.Name] = true
	}
	h := &Handler{d: d, cfg: c, mux: http.NewServeMux()}
	h.routes()
	return h, nil
}

// ServeHTTP serves the portal. Requests outside BasePath are 404.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, h.cfg.BasePath)
	if !ok || (rest != "" && !strings.HasPrefix(rest, "/")) {
		http.NotFound(w, r)
		return
	}
	if rest == "" {
		rest = "/"
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = rest
	r2.URL.RawPath = ""
	r2.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes)
	h.mux.ServeHTTP(w, r2)
}

// link returns the URL path of a portal path p ("/endpoints/x").
func (h *Handler) link(p string) string {
	return h.cfg.BasePath + p
}

func cloneTheme(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
