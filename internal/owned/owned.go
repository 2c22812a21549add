// Package owned lets the Dispatcher give a Store of this module the body
// of an event it publishes, rather than a body the Store must copy: the
// Dispatcher made it for this call alone and neither modifies nor reuses
// it afterwards, so the Store may keep the very slice. The mark names that
// slice: a Store keeps a body without copying only if it is the very slice
// marked (same first byte, same length). A body that anything between the
// Dispatcher and the Store replaced (an application's Store wrapper with a
// buffer of its own, say) is not the marked one, and is copied as before.
package owned

import "context"

type key struct{}

// Give returns ctx marked: body, enqueued with it, is the Store's to keep.
func Give(ctx context.Context, body []byte) context.Context {
	return context.WithValue(ctx, key{}, body)
}

// Given reports whether body is the very slice ctx was marked with by
// Give: a non-empty body with the same first byte and length.
func Given(ctx context.Context, body []byte) bool {
	m, _ := ctx.Value(key{}).([]byte)
	return len(body) > 0 && len(m) == len(body) && &m[0] == &body[0]
}
