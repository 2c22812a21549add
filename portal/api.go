package portal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// apiRoute is one route of the JSON API. Path is relative to BasePath
// and is also the route's key in openapi.json.
type apiRoute struct {
	Method string
	Path   string
	handle func(h *Handler, w http.ResponseWriter, r *http.Request, tenant string)
}

// apiRouteTable is every route of the JSON API: apiRoutes registers
// exactly these, and the tests iterate them (tenant isolation, OpenAPI
// conformance), so a route added here cannot go untested.
var apiRouteTable = []apiRoute{
	{"GET", "/api/endpoints", (*Handler).apiListEndpoints},
	{"POST", "/api/endpoints", (*Handler).apiCreateEndpoint},
	{"GET", "/api/endpoints/{id}", (*Handler).apiGetEndpoint},
	{"PUT", "/api/endpoints/{id}", (*Handler).apiUpdateEndpoint},
	{"DELETE", "/api/endpoints/{id}", (*Handler).apiDeleteEndpoint},
	{"POST", "/api/endpoints/{id}/enable", (*Handler).apiEnableEndpoint},
	{"POST", "/api/endpoints/{id}/disable", (*Handler).apiDisableEndpoint},
	{"POST", "/api/endpoints/{id}/rotate-secret", (*Handler).apiRotateSecret},
	{"POST", "/api/endpoints/{id}/test", (*Handler).apiSendTest},
	{"POST", "/api/endpoints/{id}/recover", (*Handler).apiRecover},
	{"GET", "/api/deliveries", (*Handler).apiListDeliveries},
	{"GET", "/api/deliveries/{id}", (*Handler).apiGetDelivery},
	{"GET", "/api/deliveries/{id}/attempts", (*Handler).apiListAttempts},
	{"POST", "/api/deliveries/{id}/redeliver", (*Handler).apiRedeliver},
	{"GET", "/api/event-types", (*Handler).apiEventTypes},
	{"GET", "/api/openapi.json", (*Handler).apiOpenAPI},
}

// apiRoutes registers the JSON API under /api/, and a problem+json 404
// or 405 for any other /api/ request.
func (h *Handler) apiRoutes() {
	for _, rt := range apiRouteTable {
		h.mux.HandleFunc(rt.Method+" "+rt.Path, h.apiServe(rt))
	}
	// One catch-all per method, not "/api/": a method-less pattern would
	// conflict with a page route such as "GET /".
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		h.mux.HandleFunc(m+" /api/", h.apiNoRoute)
	}
}

// apiServe wraps a route: no caching, cross-site and Content-Type checks
// for unsafe methods, then the tenant.
func (h *Handler) apiServe(rt apiRoute) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		noStore(w)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if crossSite(r) {
				writeProblem(w, Problem{Status: http.StatusForbidden, Detail: "cross-site requests are refused"})
				return
			}
			if !apiJSONContent(r) {
				writeProblem(w, Problem{Status: http.StatusUnsupportedMediaType,
					Detail: "send the request with Content-Type: application/json"})
				return
			}
		}
		tenant, err := h.tenant(r)
		if err != nil {
			h.apiError(w, r, err)
			return
		}
		rt.handle(h, w, r, tenant)
	}
}

// apiJSONContent reports whether r's body is declared as JSON. POST and
// PUT always need the declaration (it also forces browsers to preflight
// a cross-origin request); a DELETE needs it only when it has a body.
func apiJSONContent(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" && r.Method == http.MethodDelete && r.ContentLength == 0 {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// apiNoRoute answers an /api/ request no route matches: 405 when the path
// exists for another method, else 404.
func (h *Handler) apiNoRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, rt := range apiRouteTable {
		if apiPathMatch(rt.Path, r.URL.Path) {
			allow = append(allow, rt.Method)
		}
	}
	if len(allow) == 0 {
		writeProblem(w, Problem{Status: http.StatusNotFound, Detail: "no such resource"})
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeProblem(w, Problem{Status: http.StatusMethodNotAllowed,
		Detail: fmt.Sprintf("use %s", strings.Join(allow, " or "))})
}

// apiPathMatch reports whether path matches pattern, whose {name}
// segments match any one non-empty segment.
func apiPathMatch(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i, p := range ps {
		if strings.HasPrefix(p, "{") {
			if xs[i] == "" {
				return false
			}
		} else if p != xs[i] {
			return false
		}
	}
	return true
}

// apiWrite writes v as JSON with status.
func apiWrite(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, Problem{Status: http.StatusInternalServerError, Detail: "the server could not complete the request"})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// apiError writes err as a problem; field names of validation errors
// read as the API's JSON names.
func (h *Handler) apiError(w http.ResponseWriter, r *http.Request, err error) {
	p := h.problemFor(r, err)
	for i, fe := range p.Errors {
		if n, ok := apiFieldNames[fe.Field]; ok {
			p.Errors[i].Field = n
		}
	}
	writeProblem(w, p)
}

// apiFieldNames maps the Dispatcher's field names (ValidationError.Field)
// to the API's.
var apiFieldNames = map[string]string{
	"Name": "name", "URL": "url", "Events": "events", "Method": "method",
	"ContentType": "content_type", "MaxAttempts": "max_attempts",
	"Headers": "headers", "Secret": "secret", "grace": "grace_seconds",
	"TenantID": "tenant",
}

// apiBadRequest is a 400 problem about the request body or query.
func apiBadRequest(field, reason string) Problem {
	p := Problem{Status: http.StatusBadRequest, Title: "Malformed request", Detail: reason}
	if field != "" {
		p.Errors = []FieldError{{Field: field, Reason: reason}}
	}
	return p
}

// apiDecode reads r's JSON body into v: unknown fields and trailing data
// are refused; an empty body leaves v as it is (every field absent). It
// writes the problem and returns false when the body is not acceptable.
func (h *Handler) apiDecode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if err2 := dec.Decode(&struct{}{}); err2 != io.EOF {
			err = err2
			if err == nil {
				err = errors.New("the body holds more than one JSON value")
			}
		}
	} else if err == io.EOF {
		return true
	}
	if err == nil {
		return true
	}
	var mbe *http.MaxBytesError
	var ute *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &mbe):
		h.apiError(w, r, err)
	case errors.As(err, &ute):
		writeProblem(w, apiBadRequest(ute.Field, fmt.Sprintf("must be %s, not %s", ute.Type, ute.Value)))
	case errors.As(err, &se):
		writeProblem(w, apiBadRequest("", "the body is not valid JSON: "+se.Error()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		writeProblem(w, apiBadRequest(name, "unknown field"))
	default:
		writeProblem(w, apiBadRequest("", "the body is not acceptable JSON: "+err.Error()))
	}
	return false
}
