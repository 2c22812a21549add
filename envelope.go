package webhook

import (
	"bytes"
	"encoding/json"
	"sync"
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
//
// EnvelopeWith gives the same shape written for receivers that
// re-serialize with Python's json.dumps or PHP's json_encode.
func DefaultEnvelope(ev Event) ([]byte, error) {
	return MarshalJSON(newEnvelope(ev))
}

// newEnvelope is DefaultEnvelope's shape, ready to marshal.
func newEnvelope(ev Event) envelope {
	return envelope{
		ID:        ev.ID,
		Type:      ev.Type,
		Timestamp: ev.CreatedAt.UTC().Format(TimestampFormat),
		TenantID:  ev.TenantID,
		Data:      ev.Data,
	}
}

// MarshalJSON is json.Marshal written the way JavaScript's JSON.stringify
// writes: no HTML escaping, U+2028 and U+2029 left raw, no trailing
// newline. It is the helper for custom envelopes that must survive a
// receiver's JSON.stringify(JSON.parse(body)) round trip.
//
// Two differences remain. JavaScript puts integer-like object keys ("9",
// "10") first in numeric order, while Go sorts map keys as strings: use
// structs, or maps without integer-like keys, in Data when receivers
// re-serialize. And JavaScript numbers are float64: an integer beyond
// 2^53 comes back rounded. MarshalPythonJSON and MarshalPHPJSON are the
// same helper for receivers in Python and PHP.
func MarshalJSON(v any) ([]byte, error) {
	e := jsonEncoders.Get().(*jsonEncoder)
	defer e.put()
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	out := bytes.TrimSuffix(e.buf.Bytes(), []byte{'\n'})
	if bytes.Contains(out, []byte(`\u202`)) {
		return unescapeLineSeparators(out), nil // a new slice
	}
	return bytes.Clone(out), nil
}

// jsonEncoder is MarshalJSON's encoder and buffer, pooled: the result is
// copied out at its exact size, and the buffer, grown once to the size of
// the bodies published, is reused.
type jsonEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var jsonEncoders = sync.Pool{New: func() any {
	e := &jsonEncoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

func (e *jsonEncoder) put() {
	if e.buf.Cap() > 64<<10 {
		return // let an unusually large body's buffer go
	}
	e.buf.Reset()
	jsonEncoders.Put(e)
}

// unescapeLineSeparators turns the \u2028 and \u2029 escapes that
// encoding/json always writes back into raw UTF-8. A backslash outside a
// string cannot occur in JSON, so every backslash starts an escape; an
// escaped backslash is skipped whole, so "\\u2028" stays as it is.
func unescapeLineSeparators(b []byte) []byte {
	if !bytes.Contains(b, []byte(`\u202`)) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			out = append(out, b[i])
			continue
		}
		if esc := b[i:min(i+6, len(b))]; string(esc) == `\u2028` || string(esc) == `\u2029` {
			out = append(out, 0xe2, 0x80, 0xa8+esc[5]-'8')
			i += 5
			continue
		}
		out = append(out, b[i], b[i+1])
		i++
	}
	return out
}
