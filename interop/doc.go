// Package interop holds tests only: they check outhook's signatures with
// code nobody in this repository wrote (the Standard Webhooks reference
// library, Svix's Go library, go-github's ValidatePayload, Stripe's Go
// library) and run the receiver snippets of docs/snippets (Node.js, Python,
// PHP, Go) against real deliveries. It also runs node, python3 and php on
// bodies to check that each envelope form survives its language's
// re-serialization (JSON.stringify, json.dumps, json_encode). It is a module of its own so that none
// of those dependencies reaches what users of github.com/outhook/webhook
// download.
package interop
