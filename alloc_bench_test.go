package webhook_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
)

// benchSign measures one signature of a 300-byte body, the header map
// reused as a request's would be filled once: what is left per signature
// is the header values.
func benchSign(b *testing.B, s webhook.Signer, secrets ...string) {
	h := http.Header{}
	m := webhook.Message{ID: "msg_2zVHgEWWSNZ7nA2pH1PfyMC9vZx", Timestamp: time.Unix(1_800_000_000, 0),
		Body: make([]byte, 300), Secrets: secrets}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Sign(h, m); err != nil {
			b.Fatal(err)
		}
	}
}

const benchSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func BenchmarkSignStandard(b *testing.B) { benchSign(b, webhook.StandardSigner{}, benchSecret) }

func BenchmarkSignStandardRotation(b *testing.B) {
	benchSign(b, webhook.StandardSigner{}, benchSecret, "whsec_"+"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo3ODkw")
}

func BenchmarkSignHMAC(b *testing.B) {
	benchSign(b, webhook.HMACSigner{Header: "X-Hub-Signature-256", Prefix: "sha256="}, benchSecret)
}

func BenchmarkSignStripe(b *testing.B) { benchSign(b, webhook.StripeSigner{}, benchSecret) }

// BenchmarkPublishMemstore measures Publish of one event to one endpoint
// on memstore (no workers running), beside marshal-and-store: the
// envelope marshalled and the event and its delivery enqueued directly.
func BenchmarkPublishMemstore(b *testing.B) {
	ctx := context.Background()
	data := map[string]string{"pad": string(make([]byte, 250))}
	b.Run("publish", func(b *testing.B) {
		d, err := webhook.NewDispatcher(memstore.New(), &webhook.Config{AllowPrivateNetworks: true})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{URL: "http://127.0.0.1:1/hook"}); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := d.Publish(ctx, webhook.Event{Type: "post.created", Data: data}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-marshal-enqueue", func(b *testing.B) {
		s := memstore.New()
		now := time.Now()
		if err := s.CreateEndpoint(ctx, &webhook.Endpoint{ID: "ep", URL: "http://127.0.0.1:1/hook", CreatedAt: now},
			webhook.Secret{Value: benchSecret, CreatedAt: now}, 0); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			id := "e" + itoa(i)
			ev := webhook.Event{ID: id, Type: "post.created", Data: data, CreatedAt: now}
			body, err := webhook.DefaultEnvelope(ev)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Enqueue(ctx, &webhook.StoredEvent{ID: id, Type: ev.Type, CreatedAt: now, Body: body},
				[]*webhook.Delivery{{ID: "d" + id, EventID: id, EndpointID: "ep", State: webhook.StatePending,
					NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func itoa(i int) string {
	var buf [20]byte
	n := len(buf)
	for {
		n--
		buf[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(buf[n:])
		}
	}
}
