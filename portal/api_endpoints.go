package portal

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	webhook "github.com/outhook/webhook"
)

// Reasons and defaults of the endpoint routes.
const (
	// apiDisabledByCustomer is the reason of a disable through the API
	// that gives none.
	apiDisabledByCustomer = "disabled by the customer"
	// apiGraceDefault is how long a rotated-out secret keeps signing when
	// the request does not say.
	apiGraceDefault = 24 * time.Hour
	// apiGraceMax bounds grace_seconds.
	apiGraceMax = 30 * 24 * time.Hour
)

func (h *Handler) apiListEndpoints(w http.ResponseWriter, r *http.Request, tenant string) {
	eps, err := h.d.ListEndpoints(r.Context(), tenant)
	if err != nil {
		h.apiError(w, r, err)
		return
	}
	out := apiList[apiEndpointJSON]{Data: []apiEndpointJSON{}}
	for _, ep := range eps {
		if ep.TenantID == tenant { // the Store's word, checked once more
			out.Data = append(out.Data, apiEndpoint(ep))
		}
	}
	apiWrite(w, http.StatusOK, out)
}

func (h *Handler) apiCreateEndpoint(w http.ResponseWriter, r *http.Request, tenant string) {
	var in apiEndpointInput
	if !h.apiDecode(w, r, &in) {
		return
	}
	if err := h.apiCheckEvents(in.Events); err != nil {
		h.apiError(w, r, err)
		return
	}
	ctx := r.Context()
	ep, secret, err := h.d.CreateEndpoint(ctx, in.params(tenant, nil))
	if err != nil {
		h.apiEndpointError(w, r, err)
		return
	}
	w.Header().Set("Location", h.link("/api/endpoints/"+ep.ID))
	apiWrite(w, http.StatusCreated, apiCreated{apiEndpointJSON: apiEndpoint(ep), Secret: secret})
}

func (h *Handler) apiGetEndpoint(w http.ResponseWriter, r *http.Request, tenant string) {
	ep, err := h.endpoint(r.Context(), tenant, r.PathValue("id"))
	if err != nil {
		h.apiError(w, r, err)
		return
	}
	apiWrite(w, http.StatusOK, apiEndpoint(ep))
}

func (h *Handler) apiUpdateEndpoint(w http.ResponseWriter, r *http.Request, tenant string) {
	ctx := r.Context()
	cur, err := h.endpoint(ctx, tenant, r.PathValue("id"))
	if err != nil {
		h.apiError(w, r, err)
		return
	}
	var in apiEndpointInput
	if !h.apiDecode(w, r, &in) {
		return
	}
	if err := h.apiCheckEvents(in.Events); err != nil {
		h.apiError(w, r, err)
		return
	}
	ep, err := h.d.UpdateEndpoint(ctx, cur.ID, in.params(tenant, cur))
	if err != nil {
		h.apiEndpointError(w, r, err)
		return
	}
	apiWrite(w, http.StatusOK, apiEndpoint(ep))
}

// apiCheckEvents refuses, when Config.EventTypes lists the catalogue, an
// event filter that matches none of its types.
func (h *Handler) apiCheckEvents(patterns []string) error {
	if len(h.cfg.EventTypes) == 0 {
		return nil
	}
	for _, p := range patterns {
		found := false
		for _, et := range h.cfg.EventTypes {
			found = found || webhook.MatchEvent([]string{p}, et.Name)
		}
		if !found {
			return &webhook.ValidationError{Field: "events",
				Reason: fmt.Sprintf("%q matches no event type of the catalogue (GET /api/event-types)", p)}
		}
	}
	return nil
}

// apiEndpointError names the events field when the catalogue refused an
// event filter.
func (h *Handler) apiEndpointError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, webhook.ErrUnknownEventType) {
		writeProblem(w, Problem{Status: http.StatusUnprocessableEntity, Title: "Invalid request", Detail: err.Error(),
			Errors: []FieldError{{Field: "events", Reason: "names no event type of the catalogue (GET /api/event-types)"}}})
		return
	}
	h.apiError(w, r, err)
}

func (h *Handler) apiDeleteEndpoint(w http.ResponseWriter, r *http.Request, tenant string) {
	ep, err := h.endpoint(r.Context(), tenant, r.PathValue("id"))
	if err == nil {
		err = h.d.DeleteEndpoint(r.Context(), ep.ID)
	}
	if err != nil {
		h.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) apiEnableEndpoint(w http.ResponseWriter, r *http.Request, tenant string) {
	h.apiEndpointAction(w, r, tenant, nil, func(ep *webhook.Endpoint) error {
		return h.d.EnableEndpoint(r.Context(), ep.ID)
	})
}

func (h *Handler) apiDisableEndpoint(w http.ResponseWriter, r *http.Request, tenant string) {
	var in struct {
		Reason string `json:"reason"`
	}
	h.apiEndpointAction(w, r, tenant, &in, func(ep *webhook.Endpoint) error {
		if in.Reason == "" {
			in.Reason = apiDisabledByCustomer
		}
		return h.d.DisableEndpoint(r.Context(), ep.ID, in.Reason)
	})
}

// apiEndpointAction loads tenant's endpoint, reads the body into in (if
// not nil; any body is refused otherwise unless empty), runs act and
// answers with the endpoint as it is afterwards.
func (h *Handler) apiEndpointAction(w http.ResponseWriter, r *http.Request, tenant string, in any, act func(*webhook.Endpoint) error) {
	ctx := r.Context()
	ep, err := h.endpoint(ctx, tenant, r.PathValue("id"))
	if err != nil {
		h.apiError(w, r, err)
		return
	}
	if in == nil {
		in = &struct{}{}
	}
	if !h.apiDecode(w, r, in) {
		return
	}
	if err := act(ep); err != nil {
		h.apiError(w, r, err)
		return
	}
	if ep, err = h.endpoint(ctx, tenant, ep.ID); err != nil {
		h.apiError(w, r, err)
		return
	}
	apiWrite(w, http.StatusOK, apiEndpoint(ep))
}

func (h *Handler) apiRotateSecret(w http.ResponseWriter, r *http.Request, tenant string) {
	ctx := r.Context()
	ep, err := h.endpoint(ctx, tenant, r.PathValue("id"))
	if err != nil {
		h.apiError(w, r, err)
		return
	}
	var in struct {
		GraceSeconds *int64 `json:"grace_seconds"`
	}
	if !h.apiDecode(w, r, &in) {
		return
	}
	grace := apiGraceDefault
	if in.GraceSeconds != nil {
		g := *in.GraceSeconds
		if g < 0 || g > int64(apiGraceMax/time.Second) {
			h.apiError(w, r, &webhook.ValidationError{Field: "grace_seconds",
				Reason: "must be 0 (retire the old secret at once) to 2592000 (30 days)"})
			return
		}
		grace = time.Duration(g) * time.Second
	}
	secret, err := h.d.RotateSecret(ctx, ep.ID, grace)
	if err != nil {
		h.apiError(w, r, err)
		return
	}
	apiWrite(w, http.StatusOK, apiSecret{Secret: secret})
}

func (h *Handler) apiSendTest(w http.ResponseWriter, r *http.Request, tenant string) {
	ctx := r.Context()
	ep, err := h.endpoint(ctx, tenant, r.PathValue("id"))
	if err != nil {
		h.apiError(w, r, err)
		return
	}
	if !h.apiDecode(w, r, &struct{}{}) {
		return
	}
	a, err := h.d.SendTest(ctx, ep.ID)
	if err != nil {
		h.apiError(w, r, err)
		return
	}
	apiWrite(w, http.StatusOK, apiAttempt(a))
}

func (h *Handler) apiRecover(w http.ResponseWriter, r *http.Request, tenant string) {
	ctx := r.Context()
	ep, err := h.endpoint(ctx, tenant, r.PathValue("id"))
	if err != nil {
		h.apiError(w, r, err)
		return
	}
	var in struct {
		Since string `json:"since"`
	}
	if !h.apiDecode(w, r, &in) {
		return
	}
	since, err := time.Parse(time.RFC3339, in.Since)
	if err != nil {
		h.apiError(w, r, &webhook.ValidationError{Field: "since",
			Reason: "give an RFC 3339 time, e.g. 2024-05-01T00:00:00Z"})
		return
	}
	n, err := h.d.Recover(ctx, ep.ID, since)
	if err != nil {
		h.apiError(w, r, err)
		return
	}
	apiWrite(w, http.StatusOK, struct {
		Queued int `json:"queued"`
	}{n})
}
