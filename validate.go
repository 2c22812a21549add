package webhook

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// What every Store can hold. PostgreSQL text refuses NUL bytes and invalid
// UTF-8, JSON columns replace invalid UTF-8 with U+FFFD, and SQL stores
// keep times as int64 Unix nanoseconds (1677 to 2262). The Dispatcher
// checks its callers' input against these rules before anything reaches a
// Store, so every Store gives the same answer: a *ValidationError for bad
// input, ErrNotFound for an ID that cannot exist.

// Event.CreatedAt must lie in [minEventTime, maxTime).
var (
	minEventTime = time.Unix(0, 0).UTC()
	// maxTime is the latest time the Dispatcher hands to a Store: the start
	// of 2262, months before int64 Unix nanoseconds end.
	maxTime = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
)

// validText reports whether s is stored and read back unchanged by every
// Store: valid UTF-8 without NUL bytes.
func validText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// validLabel reports whether s is valid UTF-8 without control characters
// (C0, DEL, C1; NUL among them): names and tenant IDs, which dashboards
// and logs show.
func validLabel(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// checkTenantID validates a tenant ID given to CreateEndpoint, Publish or
// ListEndpoints.
func checkTenantID(id string) error {
	if len(id) > MaxTenantIDLen || !validLabel(id) {
		return invalid("TenantID", "use at most %d bytes of UTF-8 without control characters", MaxTenantIDLen)
	}
	return nil
}

// validID reports whether id could name an endpoint, delivery or event.
// The Dispatcher assigns endpoint and delivery IDs (UUIDs) and accepts
// event IDs of printable ASCII, so an ID that is empty, longer than
// MaxEventIDLen or not validText is in no Store.
func validID(id string) bool {
	return id != "" && len(id) <= MaxEventIDLen && validText(id)
}

// checkID returns an error wrapping ErrNotFound for an ID no Store can
// hold, so that looking it up never reaches the Store. kind names what the
// ID is of ("endpoint", "delivery").
func checkID(kind, id string) error {
	if validID(id) {
		return nil
	}
	return fmt.Errorf("%w: no %s can have this ID (empty, over %d bytes, a NUL byte or invalid UTF-8)", ErrNotFound, kind, MaxEventIDLen)
}

// checkFilter validates a ListDeliveries filter. Since and Until need no
// check: every Store clamps them to the times it can hold.
func checkFilter(f DeliveryFilter) error {
	if f.EndpointID != "" && !validID(f.EndpointID) {
		return invalid("EndpointID", "not an endpoint ID: at most %d bytes of UTF-8 without NUL", MaxEventIDLen)
	}
	if f.EventID != "" && !validID(f.EventID) {
		return invalid("EventID", "not an event ID: at most %d bytes of UTF-8 without NUL", MaxEventIDLen)
	}
	if f.TenantID != "" && (len(f.TenantID) > MaxTenantIDLen || !validLabel(f.TenantID)) {
		return invalid("TenantID", "use at most %d bytes of UTF-8 without control characters", MaxTenantIDLen)
	}
	if f.EventType != "" && !validText(f.EventType) {
		return invalid("EventType", "not an event type: UTF-8 without NUL")
	}
	switch f.State {
	case "", StatePending, StateSucceeded, StateFailed:
	default:
		return invalid("State", "use %q, %q, %q or empty for all", StatePending, StateSucceeded, StateFailed)
	}
	if !validText(f.Cursor) {
		return invalid("Cursor", "not a value ListDeliveries returned")
	}
	return nil
}
