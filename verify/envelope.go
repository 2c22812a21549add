package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Envelope is the parsed JSON object of a verified delivery. The fields
// follow outhook's default envelope,
// {"id","type","timestamp","tenant_id","data"}; a sender with a custom
// envelope (Config.Envelope) may leave some empty, and the raw body is
// always in Payload.Body.
type Envelope struct {
	// ID is the envelope's "id", or the webhook-id header when the body
	// has none. Use it to de-duplicate: it is the same on every retry.
	ID string
	// Type is the event type, "type" (or "event", as some products name
	// it).
	Type string
	// Timestamp is "timestamp" read as RFC 3339 or unix seconds; zero when
	// absent or in neither form.
	Timestamp time.Time
	// TenantID is "tenant_id", empty when absent.
	TenantID string
	// Data is the raw "data" member, nil when absent.
	Data json.RawMessage
	// JSON is the envelope's JSON text: the body itself, or the payload
	// field of a form-encoded body.
	JSON json.RawMessage
}

// Payload is what Handler passes to the next handler: the verified raw body
// and the envelope parsed from it.
type Payload struct {
	Body     []byte
	Envelope Envelope
}

var errNotEnvelope = errors.New("webhook: body is not a JSON object")

// ParseEnvelope reads the envelope from a verified body. contentType is the
// request's Content-Type: for application/x-www-form-urlencoded the JSON is
// the "payload" field, otherwise the body itself. id, the webhook-id
// header, fills Envelope.ID when the body has no "id". The body must hold a
// JSON object; members of unexpected types are left empty rather than
// rejected, so custom envelopes parse too.
func ParseEnvelope(contentType string, body []byte, id string) (Envelope, error) {
	text := body
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && mt == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return Envelope{}, errNotEnvelope
		}
		text = []byte(form.Get("payload"))
	}
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil || dec.More() {
		return Envelope{}, errNotEnvelope
	}
	env := Envelope{
		ID:        str(m["id"]),
		Type:      str(m["type"]),
		TenantID:  str(m["tenant_id"]),
		Timestamp: stamp(m["timestamp"]),
		JSON:      json.RawMessage(text),
	}
	if env.Type == "" {
		env.Type = str(m["event"])
	}
	if env.ID == "" {
		env.ID = id
	}
	if d, ok := m["data"]; ok {
		env.Data = d
	}
	return env, nil
}

// str returns a JSON string member's value, or a number's text (some
// products send numeric IDs), else "".
func str(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// stamp reads RFC 3339 text or integer unix seconds.
func stamp(raw json.RawMessage) time.Time {
	if len(raw) == 0 {
		return time.Time{}
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t
		}
		return time.Time{}
	}
	if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return time.Unix(n, 0).UTC()
	}
	return time.Time{}
}

// headerID is the webhook-id a request carries, for envelopes without one.
func headerID(h http.Header) string { return h.Get(HeaderID) }
