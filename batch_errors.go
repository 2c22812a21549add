package webhook

import (
	"fmt"
	"strings"
)

// BatchError is what PublishMany returns when one event of the batch is
// invalid: Index is its position in the slice given, Err what is wrong
// with it (a *ValidationError, ErrUnknownEventType, ErrPayloadTooLarge, or
// ErrDuplicateEvent for an ID given twice with another tenant or type).
// errors.Is and errors.As see through it to Err. Nothing of the batch is
// stored.
type BatchError struct {
	Index int
	Err   error
}

// Error names the index and the problem.
func (e *BatchError) Error() string {
	return fmt.Sprintf("webhook: event %d of the batch: %v", e.Index, e.Err)
}

// Unwrap returns Err.
func (e *BatchError) Unwrap() error { return e.Err }

// EventClashError is a batch whose event IDs are already stored as events
// of another tenant or type (see ManyEnqueuer). It matches
// ErrDuplicateEvent with errors.Is. IDs lists every clashing ID, in batch
// order; Existing holds the stored events, in the same order.
type EventClashError struct {
	IDs      []string
	Existing []*StoredEvent
}

// Error lists the clashing IDs (the first ten).
func (e *EventClashError) Error() string {
	ids := e.IDs
	more := ""
	if len(ids) > 10 {
		more = fmt.Sprintf(" and %d more", len(ids)-10)
		ids = ids[:10]
	}
	return fmt.Sprintf("%v: %q%s already the ID of an event of another tenant or type; use other IDs",
		ErrDuplicateEvent, strings.Join(ids, `", "`), more)
}

// Unwrap returns ErrDuplicateEvent.
func (e *EventClashError) Unwrap() error { return ErrDuplicateEvent }

// clashes returns the EventClashError for events whose existing[i] differs
// in tenant or type, or nil if none does: the check every ManyEnqueuer
// makes (Stores may use ClashesOf).
func clashes(events []*StoredEvent, existing []*StoredEvent) *EventClashError {
	var ce *EventClashError
	for i, prev := range existing {
		if prev == nil {
			continue
		}
		if prev.TenantID != events[i].TenantID || prev.Type != events[i].Type {
			if ce == nil {
				ce = &EventClashError{}
			}
			ce.IDs = append(ce.IDs, events[i].ID)
			ce.Existing = append(ce.Existing, prev)
		}
	}
	return ce
}

// ClashesOf is the check a ManyEnqueuer makes before writing: given the
// batch and, per event, the event already stored under its ID (nil if
// none), it returns an *EventClashError listing those of another tenant
// or type, or nil.
func ClashesOf(events []*StoredEvent, existing []*StoredEvent) error {
	if ce := clashes(events, existing); ce != nil {
		return ce
	}
	return nil
}
