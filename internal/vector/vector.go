// Package vector holds the Standard Webhooks specification's published
// test vector, used by the tests of several packages and modules here.
package vector

// The vector: Secret signs Body sent as message ID at Timestamp (unix
// seconds); the webhook-signature header is Signature.
const (
	Secret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	ID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	Timestamp = 1614265330
	Body      = `{"test": 2432232314}`
	Signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)
