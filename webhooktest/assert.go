package webhooktest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
)

// DeliveryLog is what the delivery assertions read: a *webhook.Dispatcher,
// or any webhook.Store (to look at what other processes delivered).
type DeliveryLog interface {
	// ListDeliveries is Dispatcher.ListDeliveries (or Store's).
	ListDeliveries(ctx context.Context, f webhook.DeliveryFilter) ([]*webhook.Delivery, string, error)
	// ListAttempts is Dispatcher.ListAttempts (or Store's).
	ListAttempts(ctx context.Context, deliveryID string) ([]*webhook.Attempt, error)
}

// Tick is how often the assertions look again while they wait.
const Tick = 5 * time.Millisecond

// storeGrace bounds a Store call beyond the assertion's own deadline, so
// a hung store fails the test instead of hanging it.
const storeGrace = 5 * time.Second

// AssertDelivered checks that event eventID was delivered to endpoint
// endpointID within the duration within: it looks up their delivery every Tick until it has
// succeeded, and fails the test (t.Errorf) if it has not by the deadline,
// or as soon as the delivery has failed for good. The failure message says
// what happened instead: no delivery at all, or the delivery's state and
// every attempt's status and error. It returns the succeeded delivery, or
// nil.
func AssertDelivered(t testing.TB, log DeliveryLog, eventID, endpointID string, within time.Duration) *webhook.Delivery {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within+storeGrace)
	defer cancel()
	var (
		dl  *webhook.Delivery
		err error
	)
	poll(within, func() bool {
		dl, err = findDelivery(ctx, log, eventID, endpointID)
		if err != nil {
			return errors.Is(err, webhook.ErrInvalid) // bad input: looking again will not help
		}
		return dl != nil && dl.State != webhook.StatePending
	})
	switch {
	case err != nil:
		t.Errorf("webhooktest: AssertDelivered(%q, %q): %v", eventID, endpointID, err)
	case dl == nil:
		t.Errorf("webhooktest: event %q was not delivered to endpoint %q within %s: no such delivery (the event was not published, or the endpoint does not take it: another tenant, an event filter, disabled)", eventID, endpointID, within)
	case dl.State == webhook.StateSucceeded:
		return dl
	case dl.State == webhook.StateFailed:
		t.Errorf("webhooktest: event %q was not delivered to endpoint %q: the delivery failed%s", eventID, endpointID, describe(ctx, log, dl))
	default:
		t.Errorf("webhooktest: event %q was not delivered to endpoint %q within %s: the delivery is still %s%s", eventID, endpointID, within, dl.State, describe(ctx, log, dl))
	}
	return nil
}

// AssertNotDelivered checks that event eventID is not delivered to
// endpoint endpointID for the duration during: it looks every Tick for all of it
// and fails the test (t.Errorf) as soon as their delivery has succeeded.
// A delivery that is pending or failed, or none at all, passes. It returns
// whether the check passed.
func AssertNotDelivered(t testing.TB, log DeliveryLog, eventID, endpointID string, during time.Duration) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), during+storeGrace)
	defer cancel()
	var (
		dl  *webhook.Delivery
		err error
	)
	poll(during, func() bool {
		dl, err = findDelivery(ctx, log, eventID, endpointID)
		return errors.Is(err, webhook.ErrInvalid) || (dl != nil && dl.State == webhook.StateSucceeded)
	})
	switch {
	case err != nil:
		t.Errorf("webhooktest: AssertNotDelivered(%q, %q): %v", eventID, endpointID, err)
		return false
	case dl != nil && dl.State == webhook.StateSucceeded:
		t.Errorf("webhooktest: event %q was delivered to endpoint %q, want not delivered%s", eventID, endpointID, describe(ctx, log, dl))
		return false
	}
	return true
}

// AssertReceived checks that r got a request for event eventID (its
// webhook-id header) whose signature verified, within the duration within. It waits on the
// Receiver, not on a fixed sleep, and fails the test (t.Errorf) at the
// deadline, saying why the requests that did carry the ID failed to
// verify. It returns the first verified request and whether there was one.
func AssertReceived(t testing.TB, r *Receiver, eventID string, within time.Duration) (Request, bool) {
	t.Helper()
	match := func(q Request) bool { return q.WebhookID() == eventID && q.Verified }
	reqs, ok := r.wait(within, func(reqs []Request) bool {
		for _, q := range reqs {
			if match(q) {
				return true
			}
		}
		return false
	})
	if ok {
		for _, q := range reqs {
			if match(q) {
				return q, true
			}
		}
	}
	var why []string
	for _, q := range reqs {
		if q.WebhookID() == eventID {
			why = append(why, fmt.Sprintf("request %d did not verify: %v", q.N, q.VerifyErr))
		}
	}
	if len(why) == 0 {
		why = append(why, fmt.Sprintf("none of its %d requests carries that webhook-id", len(reqs)))
	}
	t.Errorf("webhooktest: the receiver got no verified request for event %q within %s: %s", eventID, within, strings.Join(why, "; "))
	return Request{}, false
}

// AssertNotReceived checks that r gets no request for event eventID (its
// webhook-id header), verified or not, for the duration during, and fails the test
// (t.Errorf) as soon as one arrives. It returns whether the check passed.
func AssertNotReceived(t testing.TB, r *Receiver, eventID string, during time.Duration) bool {
	t.Helper()
	reqs, got := r.wait(during, func(reqs []Request) bool {
		for _, q := range reqs {
			if q.WebhookID() == eventID {
				return true
			}
		}
		return false
	})
	if !got {
		return true
	}
	for _, q := range reqs {
		if q.WebhookID() == eventID {
			t.Errorf("webhooktest: the receiver got request %d for event %q, want none", q.N, eventID)
			break
		}
	}
	return false
}

// Attempts returns the attempts of the delivery of event eventID to
// endpoint endpointID, oldest first. It fails the test (t.Fatalf) if there
// is no such delivery or the log cannot be read.
func Attempts(t testing.TB, log DeliveryLog, eventID, endpointID string) []*webhook.Attempt {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), storeGrace)
	defer cancel()
	dl, err := findDelivery(ctx, log, eventID, endpointID)
	switch {
	case err != nil:
		t.Fatalf("webhooktest: Attempts(%q, %q): %v", eventID, endpointID, err)
	case dl == nil:
		t.Fatalf("webhooktest: Attempts: no delivery of event %q to endpoint %q", eventID, endpointID)
	}
	as, err := log.ListAttempts(ctx, dl.ID)
	if err != nil {
		t.Fatalf("webhooktest: Attempts(%q, %q): %v", eventID, endpointID, err)
	}
	return as
}

// WaitForAttempts waits until the delivery of event eventID to endpoint
// endpointID has at least n attempts recorded and returns them, oldest
// first. It looks every Tick and fails the test (t.Fatalf) when within passes
// first.
func WaitForAttempts(t testing.TB, log DeliveryLog, eventID, endpointID string, n int, within time.Duration) []*webhook.Attempt {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within+storeGrace)
	defer cancel()
	var (
		as  []*webhook.Attempt
		err error
	)
	poll(within, func() bool {
		var dl *webhook.Delivery
		dl, err = findDelivery(ctx, log, eventID, endpointID)
		if err != nil || dl == nil {
			return errors.Is(err, webhook.ErrInvalid)
		}
		as, err = log.ListAttempts(ctx, dl.ID)
		return err == nil && len(as) >= n
	})
	if err != nil {
		t.Fatalf("webhooktest: WaitForAttempts(%q, %q): %v", eventID, endpointID, err)
	}
	if len(as) < n {
		t.Fatalf("webhooktest: the delivery of event %q to endpoint %q has %d attempts after %s, want at least %d%s",
			eventID, endpointID, len(as), within, n, describeAttempts(as))
	}
	return as
}

// StatusCodes returns the status code of each attempt (0 where no
// response arrived), for comparing with what a Receiver was scripted to
// answer.
func StatusCodes(as []*webhook.Attempt) []int {
	out := make([]int, len(as))
	for i, a := range as {
		out[i] = a.StatusCode
	}
	return out
}

// poll calls done at once and then every Tick until it reports true or d
// has passed, and returns its last answer.
func poll(d time.Duration, done func() bool) bool {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(Tick)
	defer tick.Stop()
	for {
		if done() {
			return true
		}
		if !time.Now().Before(deadline) {
			return false
		}
		<-tick.C
	}
}

// findDelivery returns the delivery of eventID to endpointID, nil if there
// is none.
func findDelivery(ctx context.Context, log DeliveryLog, eventID, endpointID string) (*webhook.Delivery, error) {
	if eventID == "" || endpointID == "" {
		return nil, &webhook.ValidationError{Field: "eventID and endpointID", Reason: "both are required"}
	}
	ds, _, err := log.ListDeliveries(ctx, webhook.DeliveryFilter{EventID: eventID, EndpointID: endpointID, Limit: 1})
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	return ds[0], nil
}

// describe tells a failure message what became of a delivery.
func describe(ctx context.Context, log DeliveryLog, dl *webhook.Delivery) string {
	s := fmt.Sprintf(" (%d attempts", dl.Attempts)
	if dl.LastError != "" {
		s += fmt.Sprintf(", last error %q", dl.LastError)
	}
	s += ")"
	if as, err := log.ListAttempts(ctx, dl.ID); err == nil {
		s += describeAttempts(as)
	}
	return s
}

func describeAttempts(as []*webhook.Attempt) string {
	var b strings.Builder
	for _, a := range as {
		fmt.Fprintf(&b, "\n\tattempt %d: ", a.Number)
		switch {
		case a.Success:
			fmt.Fprintf(&b, "HTTP %d, success", a.StatusCode)
		case a.Error != "":
			b.WriteString(a.Error)
		default:
			fmt.Fprintf(&b, "HTTP %d", a.StatusCode)
		}
		if a.ResponseBody != "" {
			fmt.Fprintf(&b, ", answered %q", a.ResponseBody)
		}
	}
	return b.String()
}
