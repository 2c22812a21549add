package portal

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"

	webhook "github.com/outhook/webhook"
)

// The JSON shapes of the API: snake_case, times RFC 3339 in UTC (null
// when they never happened), URLs redacted, never a signing secret
// except in apiCreated and apiSecret. openapi.json documents each of them
// under components/schemas.

// apiEndpointJSON is an endpoint as the API shows it.
type apiEndpointJSON struct {
	ID                  string            `json:"id"`
	Name                string            `json:"name"`
	URL                 string            `json:"url"`
	Events              []string          `json:"events"`
	Method              string            `json:"method"`
	ContentType         string            `json:"content_type"`
	MaxAttempts         int               `json:"max_attempts"`
	Headers             map[string]string `json:"headers"`
	Active              bool              `json:"active"`
	RateLimit           *apiRateLimitJSON `json:"rate_limit"`
	Ordered             bool              `json:"ordered"`
	Disabled            bool              `json:"disabled"`
	DisabledReason      *string           `json:"disabled_reason"`
	DisabledAt          *string           `json:"disabled_at"`
	ConsecutiveFailures int               `json:"consecutive_failures"`
	LastSuccessAt       *string           `json:"last_success_at"`
	LastFailureAt       *string           `json:"last_failure_at"`
	LastFailureReason   *string           `json:"last_failure_reason"`
	CreatedAt           *string           `json:"created_at"`
	UpdatedAt           *string           `json:"updated_at"`
}

// apiCreated is the answer to a create: the endpoint and, this once, its
// secret.
type apiCreated struct {
	apiEndpointJSON
	Secret string `json:"secret"`
}

// apiSecret is the answer to a rotation: the new secret, this once.
type apiSecret struct {
	Secret string `json:"secret"`
}

// apiRedacted stands for a header value the API does not show.
const apiRedacted = "REDACTED"

// apiSensitiveHeader reports whether a header's value is a credential the
// API must not show: sent back as apiRedacted, the stored value is kept.
func apiSensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie":
		return true
	}
	for _, s := range []string{"key", "token", "secret", "auth", "pass", "signature", "credential", "session"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

func apiEndpoint(ep *webhook.Endpoint) apiEndpointJSON {
	j := apiEndpointJSON{
		ID:                  ep.ID,
		Name:                ep.Name,
		URL:                 ep.RedactedURL(),
		Events:              append([]string{}, ep.Events...),
		Method:              ep.Method,
		ContentType:         ep.ContentType,
		MaxAttempts:         ep.MaxAttempts,
		Headers:             map[string]string{},
		Active:              !ep.Inactive,
		RateLimit:           apiRateLimit(ep.RateLimit),
		Ordered:             ep.Ordered,
		Disabled:            ep.Disabled,
		DisabledReason:      apiString(ep.DisabledReason),
		DisabledAt:          apiTime(ep.DisabledAt),
		ConsecutiveFailures: ep.ConsecutiveFailures,
		LastSuccessAt:       apiTime(ep.LastSuccessAt),
		LastFailureAt:       apiTime(ep.LastFailureAt),
		LastFailureReason:   apiString(ep.LastFailureReason),
		CreatedAt:           apiTime(ep.CreatedAt),
		UpdatedAt:           apiTime(ep.UpdatedAt),
	}
	for name, vs := range ep.Headers {
		v := strings.Join(vs, ", ")
		if apiSensitiveHeader(name) {
			v = apiRedacted
		}
		j.Headers[name] = v
	}
	return j
}

// apiDeliveryJSON is one delivery of the log.
type apiDeliveryJSON struct {
	ID            string  `json:"id"`
	EventID       string  `json:"event_id"`
	EventType     string  `json:"event_type"`
	EndpointID    string  `json:"endpoint_id"`
	State         string  `json:"state"`
	Attempts      int     `json:"attempts"`
	NextAttemptAt *string `json:"next_attempt_at"`
	// BlockedBy is Delivery.BlockedBy: the earlier delivery of an ordered
	// endpoint this one waits for.
	BlockedBy *string `json:"blocked_by"`
	LastError *string `json:"last_error"`
	CreatedAt *string `json:"created_at"`
	UpdatedAt *string `json:"updated_at"`
	// Payload is the event exactly as sent (GET /api/deliveries/{id}
	// only); null once retention has pruned it.
	Payload *json.RawMessage `json:"payload,omitempty"`
}

func apiDelivery(d *webhook.Delivery) apiDeliveryJSON {
	j := apiDeliveryJSON{
		ID:         d.ID,
		EventID:    d.EventID,
		EventType:  d.EventType,
		EndpointID: d.EndpointID,
		State:      string(d.State),
		Attempts:   d.Attempts,
		LastError:  apiString(d.LastError),
		BlockedBy:  apiString(d.BlockedBy),
		CreatedAt:  apiTime(d.CreatedAt),
		UpdatedAt:  apiTime(d.UpdatedAt),
	}
	if d.State == webhook.StatePending {
		j.NextAttemptAt = apiTime(d.NextAttemptAt)
	}
	return j
}

// apiAttemptJSON is one HTTP request of a delivery, or a test.
type apiAttemptJSON struct {
	ID              string  `json:"id"`
	Number          int     `json:"number"`
	StartedAt       *string `json:"started_at"`
	DurationMS      int64   `json:"duration_ms"`
	Status          *int    `json:"status"`
	Success         bool    `json:"success"`
	Error           *string `json:"error"`
	ResponseExcerpt string  `json:"response_excerpt"`
}

func apiAttempt(a *webhook.Attempt) apiAttemptJSON {
	j := apiAttemptJSON{
		ID:              a.ID,
		Number:          a.Number,
		StartedAt:       apiTime(a.StartedAt),
		DurationMS:      a.Duration.Milliseconds(),
		Success:         a.Success,
		Error:           apiString(a.Error),
		ResponseExcerpt: a.ResponseBody,
	}
	if a.StatusCode != 0 {
		s := a.StatusCode
		j.Status = &s
	}
	return j
}

// apiEventTypeJSON is one entry of the event-type catalogue.
type apiEventTypeJSON struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Example     json.RawMessage `json:"example"`
}

// apiList is every list the API returns: {"data": [...]}, and the
// cursor of the next page where the list is paged.
type apiList[T any] struct {
	Data []T `json:"data"`
}

// apiPage is a page of a paged list; NextCursor is null on the last.
type apiPage[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

func apiTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

func apiString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// apiRateLimitJSON is an endpoint's own rate limit (Endpoint.RateLimit),
// which the application sets: the API shows it and keeps it on a PUT.
type apiRateLimitJSON struct {
	PerSecond float64 `json:"per_second"`
	Burst     int     `json:"burst"`
}

// apiRateLimit is r as the API shows it: nil when the endpoint has none
// of its own.
func apiRateLimit(r webhook.RateLimit) *apiRateLimitJSON {
	if r.IsZero() {
		return nil
	}
	return &apiRateLimitJSON{PerSecond: r.PerSecond, Burst: max(r.Burst, 1)}
}

// apiEndpointInput is the body of POST /api/endpoints and PUT
// /api/endpoints/{id}.
type apiEndpointInput struct {
	Name        string            `json:"name"`
	URL         string            `json:"url"`
	Events      []string          `json:"events"`
	Method      string            `json:"method"`
	ContentType string            `json:"content_type"`
	MaxAttempts int               `json:"max_attempts"`
	Headers     map[string]string `json:"headers"`
	Secret      string            `json:"secret"`
	Active      *bool             `json:"active"`
}

// params turns the input into the Dispatcher's parameters. cur, on an
// update, is the endpoint as stored: a URL or header value sent back
// exactly as the API shows it (redacted) keeps the stored one.
func (in *apiEndpointInput) params(tenant string, cur *webhook.Endpoint) webhook.EndpointParams {
	p := webhook.EndpointParams{
		TenantID:    tenant,
		Name:        in.Name,
		URL:         in.URL,
		Events:      in.Events,
		Secret:      in.Secret,
		Method:      in.Method,
		ContentType: in.ContentType,
		MaxAttempts: in.MaxAttempts,
		// active is the customer's own switch (Endpoint.Inactive), not the
		// library's auto-disable; absent on a PUT keeps it as it is.
		Inactive: in.Active != nil && !*in.Active,
	}
	if cur != nil && in.Active == nil {
		p.Inactive = cur.Inactive
	}
	if cur != nil {
		p.RateLimit = cur.RateLimit // the application's setting, not the customer's
		p.Ordered = cur.Ordered     // the application's setting: the portal keeps it
	}
	if cur != nil && in.URL == cur.RedactedURL() {
		p.URL = cur.URL
	}
	if len(in.Headers) > 0 {
		p.Headers = http.Header{}
		names := make([]string, 0, len(in.Headers))
		for n := range in.Headers {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			v := in.Headers[n]
			if cur != nil && v == apiRedacted {
				if old, ok := cur.Headers[http.CanonicalHeaderKey(n)]; ok {
					p.Headers[http.CanonicalHeaderKey(n)] = append([]string(nil), old...)
					continue
				}
			}
			p.Headers.Add(n, v)
		}
	}
	return p
}
