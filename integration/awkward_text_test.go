package integration

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
	"github.com/outhook/webhook/webhooktest"
)

// TestAwkwardResponseBodiesTakeTheFastWay: on PostgreSQL, successes whose
// response bodies hold the syntax of SQL array literals (quotes,
// backslashes, braces, commas, NULL) are recorded exactly, and by the
// one-statement way for successes (their values bound as arrays), not by
// falling back to the general way because the statement failed.
func TestAwkwardResponseBodiesTakeTheFastWay(t *testing.T) {
	pgURL(t)
	ctx := context.Background()
	var logs syncBuffer
	db, _ := openPG(t)
	s := newStore(t, db, sqlstore.Postgres, &sqlstore.Options{
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	bodies := []string{`{"a":"b\"c","d":[1,2]}`, `back\slash \\ "quoted"`, `NULL`, `}{,"`, "ünï ✓\nnext"}
	rc := webhooktest.NewReceiver(t, webhooktest.WithResponder(func(w http.ResponseWriter, _ *http.Request, n int) {
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, bodies[(n-1)%len(bodies)])
	}))
	d := webhooktest.StartDispatcher(t, s, &webhook.Config{Workers: 8, PollInterval: 20 * time.Millisecond})
	ep, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: rc.URL()})
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	for i := range n {
		if _, err := d.Publish(ctx, webhook.Event{ID: fmt.Sprintf("aw-%d", i), Type: "post.created", TenantID: "acme", Data: i}); err != nil {
			t.Fatal(err)
		}
	}
	rc.WaitFor(t, n, 30*time.Second)
	var ds []*webhook.Delivery
	deadline := time.Now().Add(30 * time.Second)
	for {
		ds, _, err = d.ListDeliveries(ctx, webhook.DeliveryFilter{EndpointID: ep.ID, State: webhook.StateSucceeded, Limit: n})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == n || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(ds) != n {
		t.Fatalf("%d of %d deliveries recorded as succeeded", len(ds), n)
	}
	seen := map[string]bool{}
	for _, dl := range ds {
		as, err := d.ListAttempts(ctx, dl.ID)
		if err != nil || len(as) != 1 {
			t.Fatalf("attempts of %s: %v, %v", dl.ID, as, err)
		}
		seen[as[0].ResponseBody] = true
	}
	for _, b := range bodies {
		if !seen[b] {
			t.Errorf("response body %q was not recorded as sent (recorded: %v)", b, seen)
		}
	}
	if strings.Contains(logs.String(), "successes statement failed") {
		t.Fatalf("the successes statement failed and the batch went the general way:\n%s", logs.String())
	}
}
