package main

import (
	"html/template"
	"net/http"
	"strings"
	"time"

	webhook "github.com/outhook/webhook"
)

// portalLinkTTL is how long the home page's portal links work.
const portalLinkTTL = 15 * time.Minute

// homeData feeds homeTmpl.
type homeData struct {
	Tenant      string // "" when nobody is signed in
	Tenants     []string
	Posts       []post
	WebhooksURL string
	PortalLinks []portalLink
	Receiver    string // the signed-in tenant's receiver URL
	Secrets     int    // how many secrets that receiver knows
	Received    []received
	Notice      string
}

// portalLink is a link minted with NewSessionURL.
type portalLink struct {
	Tenant, URL string
}

// notices are the messages a redirect back to the home page may carry.
var notices = map[string]string{
	"secret":    "The demo receiver now verifies with that secret.",
	"connected": "Endpoint created and its secret handed to the demo receiver: create a post and watch it arrive.",
}

// serveHome handles GET /: the tenant switcher, the posts, the demo
// receiver and the portal links.
func (a *app) serveHome(w http.ResponseWriter, r *http.Request) {
	data := homeData{Tenants: tenants, WebhooksURL: webhooksPath + "/", Notice: notices[r.URL.Query().Get("done")]}
	for _, t := range tenants {
		u, err := a.portal.NewSessionURL(t, portalLinkTTL)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		data.PortalLinks = append(data.PortalLinks, portalLink{Tenant: t, URL: u})
	}
	if t, err := a.tenant(r); err == nil {
		data.Tenant = t
		if data.Posts, err = a.posts(r.Context(), t); err != nil {
			a.fail(w, r, err)
			return
		}
		data.Receiver = a.receiver.endpointURL(t)
		data.Secrets = a.receiver.secretCount(t)
		data.Received = a.receiver.received(t)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store") // it carries portal links
	if err := homeTmpl.Execute(w, data); err != nil {
		a.logger.Error("saas example: home page", "err", err)
	}
}

// serveReceiverSecret handles POST /receiver/secret: the customer pastes
// the secret the portal showed once into their (demo) server.
func (a *app) serveReceiverSecret(w http.ResponseWriter, r *http.Request) {
	tenant, ok := a.signedIn(w, r)
	if !ok {
		return
	}
	s := strings.TrimSpace(r.PostFormValue("secret"))
	if s == "" || len(s) > 200 {
		http.Error(w, "paste the secret the webhooks page showed (whsec_…)", http.StatusBadRequest)
		return
	}
	a.receiver.addSecret(tenant, s)
	http.Redirect(w, r, "/?done=secret", http.StatusSeeOther)
}

// serveReceiverConnect handles POST /receiver/connect, the shortcut: the
// application creates an endpoint to the tenant's demo receiver through
// the Dispatcher and hands the secret to the receiver directly.
func (a *app) serveReceiverConnect(w http.ResponseWriter, r *http.Request) {
	tenant, ok := a.signedIn(w, r)
	if !ok {
		return
	}
	_, secret, err := a.d.CreateEndpoint(r.Context(), webhook.EndpointParams{
		TenantID: tenant, Name: "Demo receiver", URL: a.receiver.endpointURL(tenant),
	})
	if err != nil {
		http.Error(w, "could not create the endpoint: "+err.Error(), http.StatusUnprocessableEntity)
		return
	}
	a.receiver.addSecret(tenant, secret)
	http.Redirect(w, r, "/?done=connected", http.StatusSeeOther)
}

var homeTmpl = template.Must(template.New("home").Funcs(template.FuncMap{
	"clock": func(t time.Time) string { return t.Local().Format("15:04:05") },
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pinboard{{with .Tenant}} · {{.}}{{end}}</title>
<style>
:root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.5; }
body { max-width: 52rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; justify-content: space-between;
	border-bottom: 1px solid color-mix(in srgb, currentColor 20%, transparent); padding-bottom: .75rem; }
h1 { font-size: 1.3rem; margin: 0; }
section { margin-top: 2rem; }
h2 { font-size: 1.1rem; }
code { font-size: .9em; word-break: break-all; }
form.inline { display: inline; }
input[type=text] { padding: .35rem .5rem; min-width: 18rem; font: inherit; }
button, .button { font: inherit; padding: .35rem .8rem; border-radius: .4rem; border: 1px solid #4f46e5;
	background: #4f46e5; color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
.secondary { background: transparent; color: inherit; border-color: color-mix(in srgb, currentColor 35%, transparent); }
.current { font-weight: 600; text-decoration: none; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid color-mix(in srgb, currentColor 12%, transparent); }
.ok { color: #15803d; } .bad { color: #b91c1c; }
.notice { padding: .5rem .75rem; border-left: 4px solid #4f46e5; background: color-mix(in srgb, #4f46e5 10%, transparent); }
.muted { opacity: .75; font-size: .95em; }
</style>
</head>
<body>
<header>
<h1>Pinboard <span class="muted">an outhook demo</span></h1>
<nav aria-label="Tenant">
{{if .Tenant}}Signed in as <strong>{{.Tenant}}</strong> · switch to{{else}}Sign in as{{end}}
{{range .Tenants}} <a href="/login/{{.}}"{{if eq . $.Tenant}} class="current" aria-current="true"{{end}}>{{.}}</a>{{end}}
{{if .Tenant}} · <a href="{{.WebhooksURL}}">Settings → Webhooks</a>
<form class="inline" method="post" action="/logout"><button class="secondary" type="submit">Sign out</button></form>{{end}}
</nav>
</header>
{{with .Notice}}<p class="notice" role="status">{{.}}</p>{{end}}
<main>
{{if .Tenant}}
<section aria-labelledby="posts">
<h2 id="posts">Posts</h2>
<form method="post" action="/posts">
<label for="title">Title</label>
<input type="text" id="title" name="title" maxlength="200" placeholder="A post from {{.Tenant}}">
<button type="submit">Create post</button>
</form>
<p class="muted">Creating a post publishes <code>post.created</code>, a vote <code>vote.cast</code>, to {{.Tenant}}'s
webhook endpoints, in the same database transaction as the post.</p>
{{if .Posts}}<table><thead><tr><th>Post</th><th>Votes</th><th>Created</th><th></th></tr></thead><tbody>
{{range .Posts}}<tr><td>{{.Title}}</td><td>{{.Votes}}</td><td>{{clock .CreatedAt}}</td>
<td><form class="inline" method="post" action="/posts/{{.ID}}/vote"><button class="secondary" type="submit" aria-label="Vote for {{.Title}}">Vote</button></form></td></tr>
{{end}}</tbody></table>{{else}}<p>No posts yet.</p>{{end}}
</section>

<section aria-labelledby="webhooks">
<h2 id="webhooks">Webhooks</h2>
<p><a class="button" href="{{.WebhooksURL}}">Open Settings → Webhooks</a>
the page every customer gets: outhook's portal, mounted at <code>{{.WebhooksURL}}</code>.</p>
</section>

<section aria-labelledby="receiver">
<h2 id="receiver">Your demo receiver</h2>
<p>A stand-in for {{.Tenant}}'s own server, which verifies every signature:</p>
<p><code>{{.Receiver}}</code></p>
<ol>
<li>On the webhooks page, add a webhook with this URL. Copy the signing secret it shows (once).</li>
<li>Paste it here, so the receiver can verify what it gets:
<form method="post" action="/receiver/secret">
<label for="secret" class="muted">Signing secret</label>
<input type="text" id="secret" name="secret" autocomplete="off" placeholder="whsec_…" required>
<button type="submit">Save secret</button></form>
</li>
<li>Create a post, and watch the delivery below and in the webhooks page's log.</li>
</ol>
<form method="post" action="/receiver/connect"><p>In a hurry?
<button class="secondary" type="submit">Add the endpoint for me</button>
<span class="muted">(creates it through the Dispatcher and gives its secret to the receiver)</span></p></form>
<p class="muted">The receiver knows {{.Secrets}} secret(s). Without the right one it answers 401 and the delivery is retried.</p>
<h3>Last deliveries received <a class="muted" href="/">refresh</a></h3>
{{if .Received}}<table><thead><tr><th>At</th><th>Event</th><th>webhook-id</th><th>Signature</th></tr></thead><tbody>
{{range .Received}}<tr><td>{{clock .At}}</td><td><code>{{.Type}}</code></td><td><code>{{.ID}}</code></td>
<td>{{if .Verified}}<span class="ok">✓ verified</span>{{else}}<span class="bad">✗ {{.Problem}}</span>{{end}}</td></tr>
{{end}}</tbody></table>{{else}}<p>Nothing yet.</p>{{end}}
</section>
{{else}}
<p>Pinboard is a tiny multi-tenant app. Sign in as
{{range $i, $t := .Tenants}}{{if $i}} or {{end}}<a href="/login/{{$t}}">{{$t}}</a>{{end}} (no password: it is a demo).</p>
{{end}}

<section aria-labelledby="links">
<h2 id="links">Portal links</h2>
<p>Without the app's sign-in: a signed link, minted server-side with <code>NewSessionURL</code>, opens one tenant's
webhooks page for 15 minutes, as you would send it in an email or load it in an iframe. Signing in or
switching tenant above ends the link's session.</p>
<ul>{{range .PortalLinks}}<li><a href="{{.URL}}">{{.Tenant}}'s webhooks page</a></li>{{end}}</ul>
</section>
</main>
</body>
</html>
`))
