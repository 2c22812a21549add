package webhook

import (
	"bytes"
	"encoding/json"
)

// TimestampFormat is how DefaultEnvelope writes the event time: RFC 3339 in
// UTC with up to microseconds, e.g. "2026-11-22T17:35:08.123456Z".
const TimestampFormat = "2006-01-02T15:04:05.999999Z07:00"

// envelope fixes the key order of DefaultEnvelope.
type envelope struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	TenantID  string `json:"tenant_id,omitempty"`
	Data      any    `json:"data"`
}

// DefaultEnvelope marshals ev as compact JSON, keys in this order and
// tenant_id left out when empty:
//
//	{"id":"…","type":"post.created","timestamp":"2026-…Z","tenant_id":"…","data":{…}}
//
// HTML characters (<, >, &) are not escaped, so a receiver that
// re-serializes the parsed body with JSON.stringify gets the same bytes.
func DefaultEnvelope(ev Event) ([]byte, error) {
	return MarshalJSON(envelope{
		ID:        ev.ID,
		Type:      ev.Type,
		Timestamp: ev.CreatedAt.UTC().Format(TimestampFormat),
		TenantID:  ev.TenantID,
		Data:      ev.Data,
	})
}

// MarshalJSON is json.Marshal without HTML escaping and without the
// trailing newline of json.Encoder: the helper for custom envelopes that
// must survive a JSON.stringify round trip.
func MarshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}
