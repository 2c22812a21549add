package webhook_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
	"github.com/outhook/webhook/webhooktest"
)

// Sleekplan authenticates webhooks with a secret in the URL's query
// (?key=…). These tests check the URL is used exactly as given and that the
// key shows up nowhere the application logs or shows a failure.

const urlKey = "k3y%2Bwith%3Dencoding"

// secretURLSetup starts a Dispatcher that logs everything to logs and
// makes one attempt per delivery, with a short request timeout.
func secretURLSetup(t *testing.T) (*webhook.Dispatcher, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{} // dispatcher_test.go
	d := webhooktest.NewMemDispatcher(t, &webhook.Config{
		PollInterval:   10 * time.Millisecond,
		RequestTimeout: 300 * time.Millisecond,
		Retry:          webhook.FixedSchedule(),
		Logger:         slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	return d, logs
}

func TestSecretInURLIsSentUnchanged(t *testing.T) {
	rcv := webhooktest.NewReceiver(t)
	d, _ := secretURLSetup(t)
	// Order, encoding and repeated keys must survive as written.
	const pathAndQuery = "/sleekplan/hook?z=1&key=" + urlKey + "&a=2&a=1"
	ep, _, err := d.CreateEndpoint(context.Background(), webhook.EndpointParams{URL: rcv.URL() + pathAndQuery})
	if err != nil {
		t.Fatal(err)
	}
	if ep.URL != rcv.URL()+pathAndQuery {
		t.Fatalf("stored URL %q", ep.URL)
	}
	if _, err := d.Publish(context.Background(), webhook.Event{Type: "item.create", Data: map[string]int{"id": 1}}); err != nil {
		t.Fatal(err)
	}
	if uri := rcv.WaitFor(t, 1, 5*time.Second)[0].URI; uri != pathAndQuery {
		t.Fatalf("request URI %q, want %q", uri, pathAndQuery)
	}
}

// TestSecretInURLStaysOutOfFailures: transport failures (refused
// connection, timeout) name the URL in Go's errors; none of that may reach
// the log, the attempt log, the delivery or the endpoint's last failure
// reason, nor a SendTest result.
func TestSecretInURLStaysOutOfFailures(t *testing.T) {
	d, logs := secretURLSetup(t)
	ctx := context.Background()

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer slow.Close()
	defer close(hang)

	var eps []*webhook.Endpoint
	for _, base := range []string{closed.URL, slow.URL} {
		ep, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{URL: base + "/hook?key=" + urlKey})
		if err != nil {
			t.Fatal(err)
		}
		eps = append(eps, ep)
	}
	if _, err := d.Publish(ctx, webhook.Event{Type: "item.create"}); err != nil {
		t.Fatal(err)
	}

	var texts []string
	deadline := time.Now().Add(10 * time.Second)
	for _, ep := range eps {
		for {
			got, err := d.GetEndpoint(ctx, ep.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.LastFailureReason != "" {
				texts = append(texts, "endpoint reason: "+got.LastFailureReason)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("endpoint %s never failed", ep.ID)
			}
			time.Sleep(20 * time.Millisecond)
		}
		ds, _, err := d.ListDeliveries(ctx, webhook.DeliveryFilter{EndpointID: ep.ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, dl := range ds {
			texts = append(texts, "delivery error: "+dl.LastError)
			as, err := d.ListAttempts(ctx, dl.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range as {
				texts = append(texts, "attempt error: "+a.Error)
			}
		}
		a, err := d.SendTest(ctx, ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, "SendTest error: "+a.Error)
	}
	texts = append(texts, "log: "+logs.String())
	t.Logf("what the application sees:\n%s", strings.Join(texts, "\n"))
	for _, s := range texts {
		if strings.Contains(s, urlKey) || strings.Contains(s, "k3y") {
			t.Errorf("the URL's key leaks: %s", s)
		}
	}
	if !strings.Contains(logs.String(), "/…") {
		t.Errorf("log does not name the endpoint's redacted URL:\n%s", logs.String())
	}
}

// TestSecretInURLStaysOutOfValidationErrors: a rejected URL's error says
// what is wrong without repeating the query.
func TestSecretInURLStaysOutOfValidationErrors(t *testing.T) {
	d, err := webhook.NewDispatcher(memstore.New(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{
		"ftp://example.com/hook?key=" + urlKey,
		"https://exa mple.com/hook?key=" + urlKey,
		"http://127.0.0.1/hook?key=" + urlKey,
		"https://example.com/hook?key=" + urlKey + "#frag",
	} {
		_, _, err := d.CreateEndpoint(context.Background(), webhook.EndpointParams{URL: raw})
		if err == nil {
			t.Errorf("%s accepted", raw)
			continue
		}
		if !errors.Is(err, webhook.ErrInvalid) {
			t.Errorf("%s: %v is not ErrInvalid", raw, err)
		}
		if strings.Contains(err.Error(), "k3y") {
			t.Errorf("error repeats the key: %v", err)
		}
	}
}
