package webhook

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by the library wrap one of these; test
// with errors.Is.
var (
	// ErrInvalid wraps every *ValidationError: the caller's input was
	// rejected and nothing was stored.
	ErrInvalid = errors.New("webhook: invalid input")
	// ErrNotFound: no endpoint, event or delivery has that ID.
	ErrNotFound = errors.New("webhook: not found")
	// ErrTooManyEndpoints: the tenant already has Config.MaxEndpointsPerTenant endpoints.
	ErrTooManyEndpoints = errors.New("webhook: too many endpoints for tenant")
	// ErrPayloadTooLarge: the marshalled envelope exceeds Config.MaxPayloadBytes.
	ErrPayloadTooLarge = errors.New("webhook: payload too large")
	// ErrUnknownEventType: a type catalogue is configured and does not list the type.
	ErrUnknownEventType = errors.New("webhook: unknown event type")
	// ErrDuplicateEvent is returned by Store.Enqueue when an event with the
	// same ID exists; nothing is written. Publish treats it as success when
	// the stored event has the same tenant and type, and returns it wrapped
	// otherwise.
	ErrDuplicateEvent = errors.New("webhook: duplicate event id")
	// ErrLeaseLost is returned by Store.Complete when the claim's lease
	// expired and the delivery was claimed again or ended meanwhile; the
	// attempt is not recorded.
	ErrLeaseLost = errors.New("webhook: lease lost")
	// ErrNotSupported: the Store lacks an optional ability (e.g. PublishTx).
	ErrNotSupported = errors.New("webhook: not supported by store")
	// ErrStopped: the dispatcher was shut down, or never started, for a
	// call that needs its workers.
	ErrStopped = errors.New("webhook: dispatcher stopped")
)

// DuplicateEventError is how a Store may report ErrDuplicateEvent together
// with the event already stored under that ID. Inside an application's
// transaction (TxEnqueuer, InTxEnqueuer) it is the only way: the dispatcher cannot read
// back a row that transaction has not committed.
type DuplicateEventError struct {
	Existing *StoredEvent // ID, Type, TenantID and CreatedAt at least
}

// Error names the ID, when Existing is set.
func (e *DuplicateEventError) Error() string {
	if e == nil || e.Existing == nil {
		return ErrDuplicateEvent.Error()
	}
	return ErrDuplicateEvent.Error() + ": " + e.Existing.ID
}

// Unwrap returns ErrDuplicateEvent.
func (e *DuplicateEventError) Unwrap() error { return ErrDuplicateEvent }

// ValidationError says which field of the caller's input was rejected and
// how to fix it. It wraps ErrInvalid.
type ValidationError struct {
	Field  string
	Reason string
}

// Error says which field is wrong and how to fix it.
func (e *ValidationError) Error() string {
	return "webhook: invalid " + e.Field + ": " + e.Reason
}

// Unwrap returns ErrInvalid.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
