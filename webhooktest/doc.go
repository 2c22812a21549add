// Package webhooktest is a test kit for applications that send webhooks
// with outhook, as net/http/httptest is for HTTP handlers: a receiver that
// records and verifies what arrives, a Dispatcher started for one test and
// stopped at its end, and assertions about what was delivered.
//
//   - [NewReceiver] starts a real HTTP server on loopback (a [Receiver])
//     that records every request (method, headers, raw body, time, the
//     envelope's event ID and type) and checks its signature with any of
//     the three schemes the library signs with ([WithSigner]: Standard
//     Webhooks by default, HMACSigner's hex HMAC, StripeSigner's form),
//     given the secrets ([WithSecrets], [Receiver.AddSecret]). It answers
//     204 unless scripted otherwise: [WithStatus], or a [Responder] such as
//     [Sequence] of [Status], [RetryAfter] and [Delay] answers.
//   - [StartDispatcher] (or [NewMemDispatcher], on memstore) creates and
//     starts a Dispatcher that may reach loopback, and shuts it down when
//     the test ends, failing the test if that does not go cleanly.
//   - [AssertDelivered], [AssertNotDelivered], [AssertReceived] and
//     [AssertNotReceived] wait on a deadline, looking again every [Tick]
//     (or waking on the Receiver's requests), never on fixed sleeps;
//     [Attempts] and [WaitForAttempts] read an attempt log.
//
// A test of an application's webhooks then reads:
//
//	func TestOrderWebhook(t *testing.T) {
//		rcv := webhooktest.NewReceiver(t)
//		d := webhooktest.NewMemDispatcher(t, nil)
//		ep, secret, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: rcv.URL()})
//		if err != nil {
//			t.Fatal(err)
//		}
//		rcv.AddSecret(secret)
//
//		ev := placeOrder(t, d) // the application's code, which publishes
//
//		webhooktest.AssertDelivered(t, d, ev.ID, ep.ID, 5*time.Second)
//		req, _ := webhooktest.AssertReceived(t, rcv, ev.ID, time.Second)
//		// req.Body, req.EventType, req.Header: what the customer got.
//	}
//
// The package depends on the library and package verify only (and
// memstore for NewMemDispatcher); it takes a testing.TB, so it works with
// *testing.T, *testing.B and test frameworks built on them.
package webhooktest
