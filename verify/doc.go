// Package verify is the receiving side of outhook: it checks that a webhook
// really comes from the sender that holds the secret, and that it is fresh.
//
// It covers the three schemes package webhook signs with:
//
//   - [Standard]: Standard Webhooks v1 (webhook-id, webhook-timestamp,
//     webhook-signature), what webhook.StandardSigner sends. Svix and other
//     Standard Webhooks senders verify the same way.
//   - [HMAC]: hex HMAC-SHA256 of the raw body in one header, optionally after
//     a prefix, what webhook.HMACSigner sends (ProductLift's "Signature",
//     GitHub's "X-Hub-Signature-256: sha256=…").
//   - [Stripe]: "t=<unix>,v1=<hex>" in one header, HMAC-SHA256 of
//     "<t>.<body>", what webhook.StripeSigner sends.
//
// Each verifier takes several candidate secrets (so a receiver can accept
// the old and the new secret while it rotates), compares in constant time,
// and, for the timestamped schemes, rejects deliveries older or newer than a
// tolerance (DefaultTolerance, five minutes, unless set) measured on an
// injectable clock. Errors wrap one of ErrMissingHeader, ErrBadFormat,
// ErrNoMatch, ErrTooOld, ErrTooNew (what the sender sent) or ErrNoSecret,
// ErrBadSecret (how the receiver is configured), for errors.Is.
//
// [Handler] (or [Middleware]) wraps an http.Handler: it reads the raw body
// under a size limit, verifies it, answers 400 or 401 with a bare status
// text when that fails, and otherwise hands the verified body and the parsed
// envelope to the next handler through the request context ([FromContext]).
//
// # Why a separate package
//
// The people who verify are not the people who send: they are the
// customers of an application that uses outhook, writing a receiver. A
// receiver needs this package and nothing else; it does not depend on the
// Dispatcher, the Store, the retry policies or their dependencies, and a
// receiver's binary links none of that. Keeping the receiving names here
// also keeps package webhook about sending: verify.Standard, verify.HMAC and
// verify.Stripe read naturally at the call site, next to the
// webhook.StandardSigner, webhook.HMACSigner and webhook.StripeSigner that
// produce what they check. Both sides compute their MACs with the same
// internal code, and package webhook's tests sign with one and verify with
// the other.
//
// # Replays
//
// A valid delivery can be captured and sent again. The timestamped schemes
// bound that to the tolerance window; within it, and for the HMAC scheme
// always, de-duplicate on the webhook-id header (the event ID, the same on
// every retry), which is the sender's idempotency key anyway.
package verify
