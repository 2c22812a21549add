package portal

import (
	"encoding/json"
	"errors"
	"net/http"

	webhook "github.com/outhook/webhook"
)

// Problem is an RFC 9457 problem detail, the body of every API error
// (Content-Type application/problem+json).
type Problem struct {
	Type   string `json:"type"`   // "about:blank" or a portal error URI
	Title  string `json:"title"`  // short, the same for every instance of the type
	Status int    `json:"status"` // the HTTP status
	Detail string `json:"detail,omitempty"`
	// Errors lists the fields of the request that were rejected.
	Errors []FieldError `json:"errors,omitempty"`
}

// FieldError says which field of a request was rejected and why.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// writeProblem writes p as application/problem+json.
func writeProblem(w http.ResponseWriter, p Problem) {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	noStore(w)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// problemFor maps an error of the Dispatcher to a problem: validation
// errors with their field, not-found, conflicts; anything else is a 500
// whose detail is not shown (the Handler logs it).
func (h *Handler) problemFor(r *http.Request, err error) Problem {
	var ve *webhook.ValidationError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ve):
		return Problem{Status: http.StatusUnprocessableEntity, Title: "Invalid request", Detail: ve.Error(),
			Errors: []FieldError{{Field: ve.Field, Reason: ve.Reason}}}
	case errors.Is(err, webhook.ErrInvalid):
		return Problem{Status: http.StatusUnprocessableEntity, Title: "Invalid request", Detail: err.Error()}
	case errors.As(err, &mbe):
		return Problem{Status: http.StatusRequestEntityTooLarge, Detail: "the request body is too large"}
	case errors.Is(err, webhook.ErrNotFound):
		return Problem{Status: http.StatusNotFound, Detail: "no such resource"}
	case errors.Is(err, webhook.ErrTooManyEndpoints):
		return Problem{Status: http.StatusConflict, Title: "Too many endpoints", Detail: err.Error()}
	case errors.Is(err, webhook.ErrUnknownEventType):
		return Problem{Status: http.StatusUnprocessableEntity, Title: "Invalid request", Detail: err.Error()}
	case errors.Is(err, ErrUnauthenticated):
		return Problem{Status: http.StatusUnauthorized, Detail: "sign in, or open a portal link"}
	case errors.Is(err, errForbidden):
		return Problem{Status: http.StatusForbidden}
	}
	h.cfg.Logger.ErrorContext(r.Context(), "portal: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	return Problem{Status: http.StatusInternalServerError, Detail: "the server could not complete the request"}
}
