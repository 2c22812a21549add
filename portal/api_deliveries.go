package portal

import (
	_ "embed"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	webhook "github.com/outhook/webhook"
)

// apiPageMax bounds the limit of GET /api/deliveries.
const apiPageMax = 100

func (h *Handler) apiListDeliveries(w http.ResponseWriter, r *http.Request, tenant string) {
	q := r.URL.Query()
	f := webhook.DeliveryFilter{
		TenantID:  tenant, // always: the log is the tenant's only
		EventType: q.Get("event_type"),
		Cursor:    q.Get("cursor"),
		Limit:     50,
	}
	if id := q.Get("endpoint_id"); id != "" {
		ep, err := h.endpoint(r.Context(), tenant, id)
		if err != nil {
			h.apiError(w, r, err)
			return
		}
		f.EndpointID = ep.ID
	}
	switch s := webhook.DeliveryState(q.Get("state")); s {
	case "", webhook.StatePending, webhook.StateSucceeded, webhook.StateFailed:
		f.State = s
	default:
		h.apiError(w, r, &webhook.ValidationError{Field: "state", Reason: "must be pending, succeeded or failed"})
		return
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > apiPageMax {
			h.apiError(w, r, &webhook.ValidationError{Field: "limit", Reason: "must be an integer from 1 to " + strconv.Itoa(apiPageMax)})
			return
		}
		f.Limit = n
	}
	ds, next, err := h.d.ListDeliveries(r.Context(), f)
	if err != nil {
		if f.Cursor != "" && errors.Is(err, webhook.ErrInvalid) {
			err = &webhook.ValidationError{Field: "cursor", Reason: "was not returned by this API; start again without it"}
		}
		h.apiError(w, r, err)
		return
	}
	out := apiPage[apiDeliveryJSON]{Data: []apiDeliveryJSON{}, NextCursor: apiString(next)}
	for _, d := range ds {
		if d.TenantID == tenant { // the Store's filter, checked once more
			out.Data = append(out.Data, apiDelivery(d))
		}
	}
	apiWrite(w, http.StatusOK, out)
}

func (h *Handler) apiGetDelivery(w http.ResponseWriter, r *http.Request, tenant string) {
	ctx := r.Context()
	d, err := h.delivery(ctx, tenant, r.PathValue("id"))
	if err != nil {
		h.apiError(w, r, err)
		return
	}
	j := apiDelivery(d)
	null := json.RawMessage("null")
	j.Payload = &null
	ev, err := h.d.GetEvent(ctx, d.EventID)
	switch {
	case err == nil && ev.TenantID == tenant && json.Valid(ev.Body):
		body := json.RawMessage(ev.Body)
		j.Payload = &body
	case err != nil && !errors.Is(err, webhook.ErrNotFound):
		h.apiError(w, r, err)
		return
	}
	apiWrite(w, http.StatusOK, j)
}

func (h *Handler) apiListAttempts(w http.ResponseWriter, r *http.Request, tenant string) {
	ctx := r.Context()
	d, err := h.delivery(ctx, tenant, r.PathValue("id"))
	if err != nil {
		h.apiError(w, r, err)
		return
	}
	as, err := h.d.ListAttempts(ctx, d.ID)
	if err != nil {
		h.apiError(w, r, err)
		return
	}
	out := apiList[apiAttemptJSON]{Data: []apiAttemptJSON{}}
	for _, a := range as {
		out.Data = append(out.Data, apiAttempt(a))
	}
	apiWrite(w, http.StatusOK, out)
}

func (h *Handler) apiRedeliver(w http.ResponseWriter, r *http.Request, tenant string) {
	ctx := r.Context()
	d, err := h.delivery(ctx, tenant, r.PathValue("id"))
	if err != nil {
		h.apiError(w, r, err)
		return
	}
	if !h.apiDecode(w, r, &struct{}{}) {
		return
	}
	if err := h.d.Redeliver(ctx, d.ID); err != nil {
		if errors.Is(err, webhook.ErrInvalid) {
			writeProblem(w, Problem{Status: http.StatusConflict,
				Detail: "the delivery is still pending, or its endpoint is disabled (enable it first)"})
			return
		}
		h.apiError(w, r, err)
		return
	}
	if d, err = h.delivery(ctx, tenant, d.ID); err != nil {
		h.apiError(w, r, err)
		return
	}
	apiWrite(w, http.StatusAccepted, apiDelivery(d))
}

func (h *Handler) apiEventTypes(w http.ResponseWriter, r *http.Request, _ string) {
	out := apiList[apiEventTypeJSON]{Data: []apiEventTypeJSON{}}
	for _, et := range h.cfg.EventTypes {
		ex, err := json.Marshal(et.Example)
		if err != nil {
			h.apiError(w, r, err)
			return
		}
		out.Data = append(out.Data, apiEventTypeJSON{Name: et.Name, Description: et.Description, Example: ex})
	}
	apiWrite(w, http.StatusOK, out)
}

// apiOpenAPIDoc is the OpenAPI 3.1 document of the JSON API.
//
//go:embed openapi.json
var apiOpenAPIDoc []byte

func (h *Handler) apiOpenAPI(w http.ResponseWriter, _ *http.Request, _ string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(apiOpenAPIDoc)
}
