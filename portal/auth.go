package portal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxSessionTTL bounds the lifetime of a portal link and its session.
const MaxSessionTTL = 7 * 24 * time.Hour

// NewSessionURL returns a link (a path under BasePath, with a signed
// token in its query) that signs its holder in to tenant's webhooks for
// ttl: mint it server-side when your own user opens the page, or put it in
// an email. Opening it sets a session cookie and redirects to the page.
// Anyone holding the link until it expires is that tenant: keep ttl short
// (minutes for an embed, hours for an email) and send it over HTTPS only.
func (h *Handler) NewSessionURL(tenant string, ttl time.Duration) (string, error) {
	if tenant == "" || len(tenant) > 255 || !utf8.ValidString(tenant) || strings.ContainsRune(tenant, 0) {
		return "", fmt.Errorf("portal: NewSessionURL: tenant must be 1 to 255 bytes of UTF-8")
	}
	if ttl <= 0 || ttl > MaxSessionTTL {
		return "", fmt.Errorf("portal: NewSessionURL: ttl %v must be positive and at most %v", ttl, MaxSessionTTL)
	}
	tok := h.signSession(tenant, h.cfg.Clock().Add(ttl))
	return h.link("/session") + "?token=" + url.QueryEscape(tok), nil
}

// signSession returns "tenant.expiry.mac", each part base64url.
func (h *Handler) signSession(tenant string, exp time.Time) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(tenant)) + "." + strconv.FormatInt(exp.Unix(), 10)
	return payload + "." + base64.RawURLEncoding.EncodeToString(h.mac("session", payload))
}

// verifySession returns the tenant of a token signSession made, if it is
// authentic and not expired.
func (h *Handler) verifySession(tok string) (string, bool) {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return "", false
	}
	payload, sig := tok[:i], tok[i+1:]
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, h.mac("session", payload)) {
		return "", false
	}
	t64, exp, ok := strings.Cut(payload, ".")
	if !ok {
		return "", false
	}
	sec, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !h.cfg.Clock().Before(time.Unix(sec, 0)) {
		return "", false
	}
	tenant, err := base64.RawURLEncoding.DecodeString(t64)
	if err != nil || len(tenant) == 0 {
		return "", false
	}
	return string(tenant), true
}

// mac is HMAC-SHA256 of purpose and msg under the session key.
func (h *Handler) mac(purpose, msg string) []byte {
	m := hmac.New(sha256.New, h.cfg.SessionKey)
	m.Write([]byte("outhook-portal/" + purpose + "\x00" + msg))
	return m.Sum(nil)
}

// serveSession handles GET /session?token=…: a valid token becomes the
// session cookie and the browser goes on to the page.
func (h *Handler) serveSession(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	if _, ok := h.verifySession(tok); !ok {
		noStore(w)
		http.Error(w, "This link is invalid or has expired. Ask for a new one.", http.StatusUnauthorized)
		return
	}
	path := h.cfg.BasePath
	if path == "" {
		path = "/"
	}
	http.SetCookie(w, &http.Cookie{
		Name:     h.cfg.SessionCookie,
		Value:    tok,
		Path:     path,
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	})
	noStore(w)
	w.Header().Set("Referrer-Policy", "no-referrer") // the token must not leak onwards
	http.Redirect(w, r, h.link("/"), http.StatusSeeOther)
}

// errForbidden: Config.Tenant refused the request for a reason other than
// a missing identity.
var errForbidden = errors.New("portal: forbidden")

// tenant returns the tenant of r: a valid portal session cookie first,
// then Config.Tenant. ErrUnauthenticated when neither says who it is.
func (h *Handler) tenant(r *http.Request) (string, error) {
	if c, err := r.Cookie(h.cfg.SessionCookie); err == nil {
		if t, ok := h.verifySession(c.Value); ok {
			return t, nil
		}
	}
	if h.cfg.Tenant == nil {
		return "", ErrUnauthenticated
	}
	t, err := h.cfg.Tenant(r)
	switch {
	case errors.Is(err, ErrUnauthenticated):
		return "", ErrUnauthenticated
	case err != nil:
		return "", fmt.Errorf("%w: %v", errForbidden, err)
	case t == "":
		return "", ErrUnauthenticated
	}
	return t, nil
}

// csrfToken is the token the page's forms carry for tenant: only someone
// who can read a page of that tenant has it.
func (h *Handler) csrfToken(tenant string) string {
	return base64.RawURLEncoding.EncodeToString(h.mac("csrf", tenant))
}

// checkCSRF reports whether r's form carries tenant's CSRF token.
func (h *Handler) checkCSRF(r *http.Request, tenant string) bool {
	got := r.PostFormValue("csrf")
	return got != "" && hmac.Equal([]byte(got), []byte(h.csrfToken(tenant)))
}

// crossSite reports whether a state-changing request comes from another
// site: browsers say so in Sec-Fetch-Site, older ones through Origin.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return true
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return true
		}
	}
	return false
}

// noStore marks a response as never to be cached.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
}
