package portal

import (
	"net/http"
	"strings"
	"time"

	webhook "github.com/outhook/webhook"
)

// The buttons of a webhook's page and of a delivery's page. Each is a
// form post that pagePost has checked (tenant, same site, CSRF token);
// each looks its object up in the tenant's scope first, so another
// tenant's ID is a 404 and changes nothing.

// pageEnable serves POST /endpoints/{id}/enable.
func (h *Handler) pageEnable(w http.ResponseWriter, r *http.Request, tenant string) {
	ep, ok := h.pageOwnEndpoint(w, r, tenant)
	if !ok {
		return
	}
	if err := h.d.EnableEndpoint(r.Context(), ep.ID); err != nil {
		h.pageError(w, r, err)
		return
	}
	h.pageRedirect(w, r, "/endpoints/"+ep.ID, "enabled")
}

// pageDisable serves POST /endpoints/{id}/disable.
func (h *Handler) pageDisable(w http.ResponseWriter, r *http.Request, tenant string) {
	ep, ok := h.pageOwnEndpoint(w, r, tenant)
	if !ok {
		return
	}
	if err := h.d.DisableEndpoint(r.Context(), ep.ID, "disabled manually"); err != nil {
		h.pageError(w, r, err)
		return
	}
	h.pageRedirect(w, r, "/endpoints/"+ep.ID, "disabled")
}

// pageGraces are the grace periods the rotate form offers, by value.
var pageGraces = map[string]struct {
	d     time.Duration
	label string
}{
	"0":    {0, "The old secret stops working now."},
	"1h":   {time.Hour, "The old secret keeps working for 1 hour."},
	"24h":  {24 * time.Hour, "The old secret keeps working for 24 hours."},
	"168h": {7 * 24 * time.Hour, "The old secret keeps working for 7 days."},
}

// pageRotate serves POST /endpoints/{id}/rotate: like creation, its
// response shows the new secret once.
func (h *Handler) pageRotate(w http.ResponseWriter, r *http.Request, tenant string) {
	ep, ok := h.pageOwnEndpoint(w, r, tenant)
	if !ok {
		return
	}
	g, ok := pageGraces[r.PostFormValue("grace")]
	if !ok {
		h.pageStatus(w, r, http.StatusUnprocessableEntity, "Choose how long the old secret keeps working.")
		return
	}
	secret, err := h.d.RotateSecret(r.Context(), ep.ID, g.d)
	if err != nil {
		h.pageError(w, r, err)
		return
	}
	h.pageRender(w, r, http.StatusOK, "secret.html", tenant, "Secret rotated",
		pageSecretBody{Endpoint: h.pageEndpointView(ep), Secret: secret, Rotated: true, Grace: g.label})
}

// pageTest serves POST /endpoints/{id}/test: it sends a test event now
// and shows the attempt on the webhook's page (in this response only).
func (h *Handler) pageTest(w http.ResponseWriter, r *http.Request, tenant string) {
	ep, ok := h.pageOwnEndpoint(w, r, tenant)
	if !ok {
		return
	}
	a, err := h.d.SendTest(r.Context(), ep.ID)
	if err != nil {
		h.pageError(w, r, err)
		return
	}
	h.pageDetail(w, r, tenant, http.StatusOK, nil, a)
}

// pageDelete serves POST /endpoints/{id}/delete.
func (h *Handler) pageDelete(w http.ResponseWriter, r *http.Request, tenant string) {
	ep, ok := h.pageOwnEndpoint(w, r, tenant)
	if !ok {
		return
	}
	if err := h.d.DeleteEndpoint(r.Context(), ep.ID); err != nil {
		h.pageError(w, r, err)
		return
	}
	h.pageRedirect(w, r, "/", "deleted")
}

// pageRecover serves POST /endpoints/{id}/recover: it queues again the
// failed deliveries created since the time the form gives (UTC).
func (h *Handler) pageRecover(w http.ResponseWriter, r *http.Request, tenant string) {
	ep, ok := h.pageOwnEndpoint(w, r, tenant)
	if !ok {
		return
	}
	since, err := pageParseSince(r.PostFormValue("since"))
	if err != nil {
		h.pageStatus(w, r, http.StatusUnprocessableEntity, "Enter the date and time (UTC) to recover failed deliveries from.")
		return
	}
	if ep.Disabled {
		h.pageStatus(w, r, http.StatusUnprocessableEntity, "This webhook is disabled: enable it before recovering its failed deliveries, or they would only fail again.")
		return
	}
	n, err := h.d.Recover(r.Context(), ep.ID, since)
	if err != nil {
		h.pageError(w, r, err)
		return
	}
	done := "recovered"
	if n == 0 {
		done = "recovered0"
	}
	h.pageRedirect(w, r, "/endpoints/"+ep.ID, done)
}

// pageParseSince parses a datetime-local value, read as UTC.
func pageParseSince(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.ParseInLocation("2006-01-02T15:04", s, time.UTC)
}

// pageOwnEndpoint loads the endpoint of the path in the tenant's scope,
// or renders the error page and reports false.
func (h *Handler) pageOwnEndpoint(w http.ResponseWriter, r *http.Request, tenant string) (*webhook.Endpoint, bool) {
	ep, err := h.endpoint(r.Context(), tenant, r.PathValue("id"))
	if err != nil {
		h.pageError(w, r, err)
		return nil, false
	}
	return ep, true
}

// pageDeliveryBody is the data of a delivery's page.
type pageDeliveryBody struct {
	Delivery pageDeliveryRow
	Endpoint pageEndpointView
	Attempts []*webhook.Attempt
	Payload  string
	CanRetry bool
}

// pageDelivery serves GET /deliveries/{id}: the delivery's attempts.
func (h *Handler) pageDelivery(w http.ResponseWriter, r *http.Request, tenant string) {
	ctx := r.Context()
	d, err := h.delivery(ctx, tenant, r.PathValue("id"))
	if err != nil {
		h.pageError(w, r, err)
		return
	}
	ep, err := h.endpoint(ctx, tenant, d.EndpointID)
	if err != nil {
		h.pageError(w, r, err)
		return
	}
	attempts, err := h.d.ListAttempts(ctx, d.ID)
	if err != nil {
		h.pageError(w, r, err)
		return
	}
	body := pageDeliveryBody{Endpoint: h.pageEndpointView(ep), Attempts: attempts,
		CanRetry: d.State != webhook.StatePending && !ep.Disabled, Delivery: h.pageDeliveryRowOf(d)}
	if ev, err := h.d.GetEvent(ctx, d.EventID); err == nil && ev.TenantID == tenant {
		body.Payload = string(ev.Body)
	}
	h.pageRender(w, r, http.StatusOK, "delivery.html", tenant, "Delivery of "+d.EventType, body)
}

// pageRedeliver serves POST /deliveries/{id}/redeliver.
func (h *Handler) pageRedeliver(w http.ResponseWriter, r *http.Request, tenant string) {
	d, err := h.delivery(r.Context(), tenant, r.PathValue("id"))
	if err != nil {
		h.pageError(w, r, err)
		return
	}
	if err := h.d.Redeliver(r.Context(), d.ID); err != nil {
		h.pageError(w, r, err)
		return
	}
	h.pageRedirect(w, r, "/deliveries/"+d.ID, "redelivered")
}
