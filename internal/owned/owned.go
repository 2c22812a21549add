// Package owned lets the Dispatcher give a Store of this module the body
// of an event it publishes, rather than a body the Store must copy: the
// Dispatcher made it for this call alone and neither modifies nor reuses
// it afterwards, so the Store may keep the very slice. Stores outside the
// module, and calls from applications, never carry the mark and keep
// copying.
package owned

import "context"

type key struct{}

// Give returns ctx marked: the StoredEvent.Body enqueued with it is the
// Store's to keep.
func Give(ctx context.Context) context.Context {
	return context.WithValue(ctx, key{}, true)
}

// Given reports whether ctx carries the mark of Give.
func Given(ctx context.Context) bool {
	v, _ := ctx.Value(key{}).(bool)
	return v
}
