package portal

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	webhook "github.com/outhook/webhook"
)

// The list of webhooks with the add form, and one webhook's page with its
// edit form, actions and delivery log.

// pageEndpointView is an endpoint as the page shows it: its URL redacted,
// never its secret.
type pageEndpointView struct {
	ID, Name, URL     string
	Link              string
	Events            []string // empty: every event
	Method            string
	ContentType       string
	MaxAttempts       int
	Disabled          bool
	Inactive          bool // the customer paused it
	DisabledReason    string
	DisabledAt        time.Time
	LastSuccessAt     time.Time
	LastFailureAt     time.Time
	LastFailureReason string
	Failures          int
	CreatedAt         time.Time
	RateLimit         string // pageRateLimit: "" when it has no limit of its own
	Ordered           bool
	Chart             *pageChart
}

func (h *Handler) pageEndpointView(ep *webhook.Endpoint) pageEndpointView {
	return pageEndpointView{ID: ep.ID, Name: ep.Name, URL: ep.RedactedURL(), Link: h.link("/endpoints/" + ep.ID),
		Events: ep.Events, Method: ep.Method, ContentType: ep.ContentType, MaxAttempts: ep.MaxAttempts,
		Disabled: ep.Disabled, DisabledReason: ep.DisabledReason, DisabledAt: ep.DisabledAt, Inactive: ep.Inactive,
		LastSuccessAt: ep.LastSuccessAt, LastFailureAt: ep.LastFailureAt, LastFailureReason: ep.LastFailureReason,
		Failures: ep.ConsecutiveFailures, CreatedAt: ep.CreatedAt, RateLimit: pageRateLimit(ep.RateLimit), Ordered: ep.Ordered}
}

// pageListBody is the list page's data.
type pageListBody struct {
	Endpoints []pageEndpointView
	Form      *pageForm
}

// pageList serves GET /: the tenant's webhooks and the add form.
func (h *Handler) pageList(w http.ResponseWriter, r *http.Request, tenant string) {
	h.pageListWith(w, r, tenant, http.StatusOK, h.pageNewForm())
}

func (h *Handler) pageListWith(w http.ResponseWriter, r *http.Request, tenant string, status int, f *pageForm) {
	eps, err := h.d.ListEndpoints(r.Context(), tenant)
	if err != nil {
		h.pageError(w, r, err)
		return
	}
	body := pageListBody{Form: f}
	for _, ep := range eps {
		if ep.TenantID != tenant { // the Store's job; never trust it with another tenant's data
			continue
		}
		v := h.pageEndpointView(ep)
		if v.Chart, err = h.pageChartFor(r.Context(), tenant, ep.ID); err != nil {
			h.pageError(w, r, err)
			return
		}
		body.Endpoints = append(body.Endpoints, v)
	}
	h.pageRender(w, r, status, "list.html", tenant, "", body)
}

// pageSecretBody is the data of the page that shows a secret once.
type pageSecretBody struct {
	Endpoint pageEndpointView
	Secret   string
	Rotated  bool
	Grace    string
}

// pageCreate serves POST /endpoints: it shows the new secret in its
// response, once, rather than redirecting (a secret must not travel in a
// URL or a cookie); the response is no-store.
func (h *Handler) pageCreate(w http.ResponseWriter, r *http.Request, tenant string) {
	p, f, ok := h.pageParseForm(r, nil)
	if !ok {
		h.pageListWith(w, r, tenant, http.StatusUnprocessableEntity, f)
		return
	}
	p.TenantID = tenant
	ep, secret, err := h.d.CreateEndpoint(r.Context(), p)
	if err != nil {
		if pageFormError(f, err) {
			h.pageListWith(w, r, tenant, http.StatusUnprocessableEntity, f)
			return
		}
		h.pageError(w, r, err)
		return
	}
	h.pageRender(w, r, http.StatusCreated, "secret.html", tenant, "Webhook created", pageSecretBody{Endpoint: h.pageEndpointView(ep), Secret: secret})
}

// pageDetailBody is the data of one webhook's page.
type pageDetailBody struct {
	Endpoint   pageEndpointView
	Form       *pageForm
	Log        pageLog
	Test       *webhook.Attempt // the result of "Send test event", on its response only
	RecoverMin string           // a default for the recover field
	Backlog    *webhook.Counts  // Dispatcher.Stats for this endpoint; nil when the Store has none
}

// pageLog is the delivery log of the page with its filter and paging.
type pageLog struct {
	Deliveries []pageDeliveryRow
	State      string
	EventType  string
	Types      []string // the catalogue, for the filter's options
	Filtered   bool
	NextLink   string // the next (older) page, or ""
	FirstLink  string // the first page with the same filter, when not on it
}

// pageDeliveryRow is one line of the log.
type pageDeliveryRow struct {
	ID, EventType, State, LastError, Link string
	Attempts                              int
	CreatedAt, NextAttemptAt              time.Time
	// BlockedBy is the earlier delivery this pending one of an ordered
	// endpoint waits for, BlockedLink its page; both "" otherwise.
	BlockedBy, BlockedLink string
}

// pageDeliveryRowOf is d as the log and the delivery's page show it.
func (h *Handler) pageDeliveryRowOf(d *webhook.Delivery) pageDeliveryRow {
	row := pageDeliveryRow{ID: d.ID, EventType: d.EventType, State: string(d.State), LastError: d.LastError,
		Link: h.link("/deliveries/" + d.ID), Attempts: d.Attempts, CreatedAt: d.CreatedAt, NextAttemptAt: d.NextAttemptAt}
	row.BlockedBy, row.BlockedLink = h.pageBlockedBy(d)
	return row
}

// pageStates are the delivery states the log filter offers.
var pageStates = []string{string(webhook.StatePending), string(webhook.StateSucceeded), string(webhook.StateFailed)}

// pageEndpoint serves GET /endpoints/{id}.
func (h *Handler) pageEndpoint(w http.ResponseWriter, r *http.Request, tenant string) {
	h.pageDetail(w, r, tenant, http.StatusOK, nil, nil)
}

// pageDetail renders a webhook's page, with the edit form f when it comes
// back with errors and the result of a test event.
func (h *Handler) pageDetail(w http.ResponseWriter, r *http.Request, tenant string, status int, f *pageForm, test *webhook.Attempt) {
	ctx := r.Context()
	ep, err := h.endpoint(ctx, tenant, r.PathValue("id"))
	if err != nil {
		h.pageError(w, r, err)
		return
	}
	v := h.pageEndpointView(ep)
	if v.Chart, err = h.pageChartFor(ctx, tenant, ep.ID); err != nil {
		h.pageError(w, r, err)
		return
	}
	if f == nil {
		f = h.pageEditForm(ep)
	}
	log, err := h.pageLogFor(ctx, r, tenant, ep.ID)
	if err != nil {
		h.pageError(w, r, err)
		return
	}
	body := pageDetailBody{Endpoint: v, Form: f, Log: log, Test: test,
		RecoverMin: h.cfg.Clock().Add(-24 * time.Hour).UTC().Format("2006-01-02T15:04")}
	if body.Backlog, err = h.pageBacklog(ctx, tenant, ep.ID); err != nil {
		h.pageError(w, r, err)
		return
	}
	h.pageRender(w, r, status, "endpoint.html", tenant, ep.Name, body)
}

// pageBacklog reads the endpoint's backlog and last day's attempts from
// Dispatcher.Stats; nil, nil when the Store does not serve Stats.
func (h *Handler) pageBacklog(ctx context.Context, tenant, endpointID string) (*webhook.Counts, error) {
	st, err := h.d.Stats(ctx, webhook.StatsParams{Now: h.cfg.Clock(), Window: 24 * time.Hour,
		TenantID: tenant, EndpointIDs: []string{endpointID}})
	if errors.Is(err, webhook.ErrNotSupported) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &st.Counts, nil
}

// pageLogFor reads one page of the endpoint's delivery log as the query
// of r asks (state, type, cursor), scoped to the tenant.
func (h *Handler) pageLogFor(ctx context.Context, r *http.Request, tenant, endpointID string) (pageLog, error) {
	q := r.URL.Query()
	if r.Method != http.MethodGet {
		q = url.Values{}
	}
	l := pageLog{EventType: q.Get("type")}
	for _, s := range pageStates {
		if q.Get("state") == s {
			l.State = s
		}
	}
	if len(l.EventType) > 200 {
		l.EventType = ""
	}
	for _, et := range h.cfg.EventTypes {
		l.Types = append(l.Types, et.Name)
	}
	l.Filtered = l.State != "" || l.EventType != ""
	f := webhook.DeliveryFilter{TenantID: tenant, EndpointID: endpointID, State: webhook.DeliveryState(l.State),
		EventType: l.EventType, Limit: 25, Cursor: q.Get("cursor")}
	ds, next, err := h.d.ListDeliveries(ctx, f)
	if err != nil {
		return l, err
	}
	for _, d := range ds {
		if d.TenantID != tenant || d.EndpointID != endpointID {
			continue
		}
		l.Deliveries = append(l.Deliveries, h.pageDeliveryRowOf(d))
	}
	base := url.Values{}
	if l.State != "" {
		base.Set("state", l.State)
	}
	if l.EventType != "" {
		base.Set("type", l.EventType)
	}
	self := h.link("/endpoints/" + endpointID)
	if next != "" {
		nq := url.Values{}
		for k, v := range base {
			nq[k] = v
		}
		nq.Set("cursor", next)
		l.NextLink = self + "?" + nq.Encode() + "#log"
	}
	if f.Cursor != "" {
		l.FirstLink = self + "?" + base.Encode() + "#log"
	}
	return l, nil
}

// pageUpdate serves POST /endpoints/{id}: the edit form.
func (h *Handler) pageUpdate(w http.ResponseWriter, r *http.Request, tenant string) {
	ep, err := h.endpoint(r.Context(), tenant, r.PathValue("id"))
	if err != nil {
		h.pageError(w, r, err)
		return
	}
	p, f, ok := h.pageParseForm(r, ep)
	if !ok {
		h.pageDetail(w, r, tenant, http.StatusUnprocessableEntity, f, nil)
		return
	}
	p.TenantID = tenant
	if _, err := h.d.UpdateEndpoint(r.Context(), ep.ID, p); err != nil {
		if pageFormError(f, err) {
			h.pageDetail(w, r, tenant, http.StatusUnprocessableEntity, f, nil)
			return
		}
		h.pageError(w, r, err)
		return
	}
	h.pageRedirect(w, r, "/endpoints/"+ep.ID, "updated")
}
