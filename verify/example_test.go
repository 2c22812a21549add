package verify_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/outhook/webhook/verify"
)

// Standard Webhooks' published test vector, verified with a clock set to
// the moment it was signed.
func ExampleStandard_Verify() {
	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	body := []byte(`{"test": 2432232314}`)

	v := verify.Standard{
		Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
		Now:     func() time.Time { return time.Unix(1614265330, 0) },
	}
	fmt.Println(v.Verify(h, body))

	v.Now = func() time.Time { return time.Unix(1614265330, 0).Add(time.Hour) }
	fmt.Println(errors.Is(v.Verify(h, body), verify.ErrTooOld))
	// Output:
	// <nil>
	// true
}

// ProductLift's form: hex HMAC-SHA256 of the raw body in "Signature",
// checked against the old and the new secret during a rotation.
func ExampleHMAC_Verify() {
	body := []byte(`{"id":"1","event":"post.created"}`)
	h := http.Header{}
	h.Set("Signature", "bc86246efdde123d36e3487a044188226ed52aa01f664d90a373b403f733ffdb")

	v := verify.HMAC{Header: "Signature", Secrets: []string{"new-secret", "old-secret"}}
	fmt.Println(v.Verify(h, body))

	tampered := []byte(`{"id":"1","event":"post.deleted"}`)
	fmt.Println(errors.Is(v.Verify(h, tampered), verify.ErrNoMatch))
	// Output:
	// <nil>
	// true
}

// Stripe's form, in a header of the sender's choice.
func ExampleStripe_Verify() {
	body := []byte(`{"id":"evt_1"}`)
	h := http.Header{}
	h.Set("X-Webhook-Signature", "t=1614265330,v1=347e9afe3d74ec4c5cbefd270edc9246513ae3da7b375223e302560fbd4146eb")

	v := verify.Stripe{
		Secrets: []string{"whsec_test"},
		Now:     func() time.Time { return time.Unix(1614265330, 0) },
	}
	fmt.Println(v.Verify(h, body))

	// Ten minutes later the same request is a replay.
	v.Now = func() time.Time { return time.Unix(1614265330, 0).Add(10 * time.Minute) }
	fmt.Println(errors.Is(v.Verify(h, body), verify.ErrTooOld))

	h.Del("X-Webhook-Signature")
	fmt.Println(errors.Is(v.Verify(h, body), verify.ErrMissingHeader))
	// Output:
	// <nil>
	// true
	// true
}

// A receiver: the handler behind the middleware sees only verified
// deliveries; anything else is answered 400 or 401 with no detail.
func ExampleMiddleware() {
	v := verify.Standard{Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}
	mux := http.NewServeMux()
	mux.Handle("/webhooks", verify.Middleware(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := verify.FromContext(r.Context())
		fmt.Println("received", p.Envelope.Type, p.Envelope.ID)
	})))

	srv := httptest.NewServer(mux)
	defer srv.Close()

	// An unsigned request is refused.
	res, err := http.Post(srv.URL+"/webhooks", "application/json", strings.NewReader(`{"type":"post.created"}`))
	if err != nil {
		panic(err)
	}
	answer, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Print(res.StatusCode, " ", string(answer))
	// Output:
	// 401 Unauthorized
}
