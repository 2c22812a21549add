package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/outhook/webhook/portal"
)

// The application's own sign-in, as trivial as a demo allows: a link per
// tenant sets a cookie holding the tenant and an HMAC of it, so the cookie
// cannot be forged. A real application has passwords or SSO here; what
// matters to the portal is only Config.Tenant (app.tenant), which maps a
// request to the tenant it belongs to.

// loginCookie names the application's session cookie.
const loginCookie = "saas_session"

// tenant is portal.Config.Tenant: the signed-in tenant of r, or
// portal.ErrUnauthenticated.
func (a *app) tenant(r *http.Request) (string, error) {
	c, err := r.Cookie(loginCookie)
	if err != nil {
		return "", portal.ErrUnauthenticated
	}
	t, sig, ok := strings.Cut(c.Value, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(a.loginMAC(t))) || !slices.Contains(tenants, t) {
		return "", portal.ErrUnauthenticated
	}
	return t, nil
}

func (a *app) loginMAC(tenant string) string {
	m := hmac.New(sha256.New, a.loginKey)
	m.Write([]byte(tenant))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// serveLogin handles GET /login/{tenant}: the tenant switcher.
func (a *app) serveLogin(w http.ResponseWriter, r *http.Request) {
	t := r.PathValue("tenant")
	if !slices.Contains(tenants, t) {
		http.NotFound(w, r)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: loginCookie, Value: t + "." + a.loginMAC(t), Path: "/",
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
	a.clearPortalSession(w, r)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// serveLogout handles POST /logout.
func (a *app) serveLogout(w http.ResponseWriter, r *http.Request) {
	if crossSite(r) {
		http.Error(w, "cross-site request refused", http.StatusForbidden)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	a.clearPortalSession(w, r)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// clearPortalSession drops the session a portal link may have set: the
// portal prefers it to Config.Tenant, so after switching tenants in the
// application the page would otherwise still show the link's tenant.
func (a *app) clearPortalSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: portal.SessionCookieDefault, Value: "", Path: webhooksPath, MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
}

// signedIn returns r's tenant, or answers 401 and returns false.
func (a *app) signedIn(w http.ResponseWriter, r *http.Request) (string, bool) {
	if crossSite(r) {
		http.Error(w, "cross-site request refused", http.StatusForbidden)
		return "", false
	}
	t, err := a.tenant(r)
	if err != nil {
		http.Error(w, "sign in first", http.StatusUnauthorized)
		return "", false
	}
	return t, true
}

// crossSite reports whether a form post comes from another site. With the
// SameSite=Lax cookie this is belt and braces for the application's own
// forms; the portal protects its own.
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
