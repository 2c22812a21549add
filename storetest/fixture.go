package storetest

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
)

// base is the suite's "now"; every time is an offset from it.
var base = time.Date(2030, time.March, 4, 5, 6, 7, 0, time.UTC)

// at returns base + d.
func at(d time.Duration) time.Time { return base.Add(d) }

// lease is the lease of the suite's claims unless a test says otherwise.
const lease = time.Minute

// fixture is a store under test with a tenant of its own.
type fixture struct {
	t      *testing.T
	s      webhook.Store
	ctx    context.Context
	tenant string
}

// setup returns a fixture on a fresh store.
func setup(t *testing.T, newStore func(t *testing.T) webhook.Store) *fixture {
	t.Helper()
	s := newStore(t)
	require.NotNil(t, s, "newStore returned nil")
	return &fixture{t: t, s: s, ctx: context.Background(), tenant: "tenant-" + uuid.NewString()}
}

// newEndpoint returns an endpoint of the fixture's tenant with every field
// set, changed by mods; it stores nothing.
func (f *fixture) newEndpoint(mods ...func(*webhook.Endpoint)) *webhook.Endpoint {
	ep := &webhook.Endpoint{
		ID:          uuid.NewString(),
		TenantID:    f.tenant,
		Name:        "production-server",
		URL:         "https://hooks.example.com/in?key=k1",
		Events:      []string{"post.created", "comment.*"},
		Method:      http.MethodPost,
		ContentType: webhook.ContentTypeJSON,
		MaxAttempts: 3,
		Headers:     http.Header{"X-Team": {"a", "b"}, "Authorization": {"Bearer t"}},
		CreatedAt:   base,
		UpdatedAt:   base,
	}
	for _, m := range mods {
		m(ep)
	}
	return ep
}

// firstSecret is the secret the suite creates ep with.
func firstSecret(ep *webhook.Endpoint) webhook.Secret {
	return webhook.Secret{Value: "whsec_first_" + ep.ID, CreatedAt: ep.CreatedAt}
}

// createEndpoint stores a new endpoint (see newEndpoint) and returns it.
func (f *fixture) createEndpoint(mods ...func(*webhook.Endpoint)) *webhook.Endpoint {
	f.t.Helper()
	ep := f.newEndpoint(mods...)
	require.NoError(f.t, f.s.CreateEndpoint(f.ctx, ep.Clone(), firstSecret(ep), 0))
	return ep
}

// getEndpoint returns the stored endpoint, failing the test if it is missing.
func (f *fixture) getEndpoint(id string) *webhook.Endpoint {
	f.t.Helper()
	ep, err := f.s.GetEndpoint(f.ctx, id)
	require.NoError(f.t, err)
	require.NotNil(f.t, ep)
	return ep
}

// getDelivery returns the stored delivery, failing the test if it is missing.
func (f *fixture) getDelivery(id string) *webhook.Delivery {
	f.t.Helper()
	d, err := f.s.GetDelivery(f.ctx, id)
	require.NoError(f.t, err)
	require.NotNil(f.t, d)
	return d
}

// attempts returns the delivery's attempts, failing the test on error.
func (f *fixture) attempts(id string) []*webhook.Attempt {
	f.t.Helper()
	as, err := f.s.ListAttempts(f.ctx, id)
	require.NoError(f.t, err)
	return as
}

// newEvent returns an event of the fixture's tenant created at created,
// with a body that names it.
func (f *fixture) newEvent(created time.Time) *webhook.StoredEvent {
	id := uuid.NewString()
	return &webhook.StoredEvent{
		ID:        id,
		Type:      "post.created",
		TenantID:  f.tenant,
		CreatedAt: created,
		Body:      []byte(fmt.Sprintf(`{"id":%q,"event":"post.created","data":{"title":"x"}}`, id)),
	}
}

// newDelivery returns a pending delivery of ev to ep, due at due.
func newDelivery(ev *webhook.StoredEvent, ep *webhook.Endpoint, due time.Time) *webhook.Delivery {
	return &webhook.Delivery{
		ID:            uuid.NewString(),
		EventID:       ev.ID,
		EventType:     ev.Type,
		TenantID:      ev.TenantID,
		EndpointID:    ep.ID,
		State:         webhook.StatePending,
		NextAttemptAt: due,
		CreatedAt:     ev.CreatedAt,
		UpdatedAt:     ev.CreatedAt,
	}
}

// enqueueDue stores a new event created at created with one delivery per
// endpoint, each due at due, and returns what it stored.
func (f *fixture) enqueueDue(created, due time.Time, eps ...*webhook.Endpoint) (*webhook.StoredEvent, []*webhook.Delivery) {
	f.t.Helper()
	ev := f.newEvent(created)
	ds := make([]*webhook.Delivery, len(eps))
	in := make([]*webhook.Delivery, len(eps))
	for i, ep := range eps {
		ds[i] = newDelivery(ev, ep, due)
		c := *ds[i]
		in[i] = &c
	}
	evIn := *ev
	evIn.Body = append([]byte(nil), ev.Body...)
	require.NoError(f.t, f.s.Enqueue(f.ctx, &evIn, in))
	return ev, ds
}

// enqueue stores a new event created (and due) at created with one delivery
// per endpoint.
func (f *fixture) enqueue(created time.Time, eps ...*webhook.Endpoint) (*webhook.StoredEvent, []*webhook.Delivery) {
	f.t.Helper()
	return f.enqueueDue(created, created, eps...)
}

// claim claims up to limit deliveries at now with the suite's lease.
func (f *fixture) claim(now time.Time, limit int) []*webhook.Claim {
	f.t.Helper()
	return f.claimP(webhook.ClaimParams{Now: now, Lease: lease, Limit: limit})
}

// claimP claims with p, failing the test on error.
func (f *fixture) claimP(p webhook.ClaimParams) []*webhook.Claim {
	f.t.Helper()
	cs, err := f.s.Claim(f.ctx, p)
	require.NoError(f.t, err)
	return cs
}

// claimOne claims at now and requires exactly one claim, for id.
func (f *fixture) claimOne(now time.Time, id string) *webhook.Claim {
	f.t.Helper()
	cs := f.claim(now, 10)
	require.Len(f.t, cs, 1, "claims at %v", now)
	require.Equal(f.t, id, cs[0].Delivery.ID)
	return cs[0]
}

// claimNext claims one delivery at now and requires it to be id.
func (f *fixture) claimNext(now time.Time, id string) *webhook.Claim {
	f.t.Helper()
	cs := f.claim(now, 1)
	require.Len(f.t, cs, 1, "claims at %v", now)
	require.Equal(f.t, id, cs[0].Delivery.ID)
	return cs[0]
}

// completion returns the Completion of c's next attempt with outcome; the
// attempt failed with "HTTP 500" unless outcome is OutcomeSuccess.
func completion(c *webhook.Claim, outcome webhook.Outcome, now time.Time) webhook.Completion {
	a := &webhook.Attempt{
		ID:         uuid.NewString(),
		DeliveryID: c.Delivery.ID,
		EventID:    c.Delivery.EventID,
		EndpointID: c.Endpoint.ID,
		Number:     c.Delivery.Attempts + 1,
		StartedAt:  now.Add(-250 * time.Millisecond),
		Duration:   250 * time.Millisecond,
	}
	if outcome == webhook.OutcomeSuccess {
		a.StatusCode, a.ResponseBody, a.Success = 200, "ok", true
	} else {
		a.StatusCode, a.ResponseBody, a.Error = 500, "boom", fmt.Sprintf("HTTP 500 (attempt %d)", a.Number)
	}
	return webhook.Completion{DeliveryID: c.Delivery.ID, Token: c.Token, Attempt: a, Outcome: outcome, Now: now}
}

// complete records comp, failing the test on error.
func (f *fixture) complete(comp webhook.Completion) (*webhook.Endpoint, bool) {
	f.t.Helper()
	ep, disabled, err := f.s.Complete(f.ctx, comp)
	require.NoError(f.t, err)
	require.NotNil(f.t, ep)
	return ep, disabled
}

// succeed completes c successfully at now.
func (f *fixture) succeed(c *webhook.Claim, now time.Time) *webhook.Endpoint {
	f.t.Helper()
	ep, disabled := f.complete(completion(c, webhook.OutcomeSuccess, now))
	assert.False(f.t, disabled)
	return ep
}

// retry completes c with a retry due at retryAt.
func (f *fixture) retry(c *webhook.Claim, now, retryAt time.Time) *webhook.Endpoint {
	f.t.Helper()
	comp := completion(c, webhook.OutcomeRetry, now)
	comp.RetryAt = retryAt
	ep, disabled := f.complete(comp)
	assert.False(f.t, disabled)
	return ep
}

// fail completes c as a failed delivery with DisableAfter disableAfter.
func (f *fixture) fail(c *webhook.Claim, now time.Time, disableAfter int) (*webhook.Endpoint, bool) {
	f.t.Helper()
	comp := completion(c, webhook.OutcomeFail, now)
	comp.DisableAfter = disableAfter
	return f.complete(comp)
}

// deliveryIDs returns the IDs of the claims' deliveries, in order.
func deliveryIDs(cs []*webhook.Claim) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Delivery.ID
	}
	return out
}

// ids returns the IDs of ds, in order.
func ids(ds []*webhook.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

// sorted returns a sorted copy of s.
func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// assertTime asserts that got is the same instant as want, whatever the
// location.
func assertTime(t *testing.T, want, got time.Time, what string) {
	t.Helper()
	assert.Truef(t, want.Equal(got), "%s: want %v, got %v", what, want, got)
}

// assertEndpointConfig asserts that got carries want's identity and
// configuration (nil and empty Events or Headers are the same).
func assertEndpointConfig(t *testing.T, want, got *webhook.Endpoint) {
	t.Helper()
	require.NotNil(t, got)
	assert.Equal(t, want.ID, got.ID, "ID")
	assert.Equal(t, want.TenantID, got.TenantID, "TenantID")
	assert.Equal(t, want.Name, got.Name, "Name")
	assert.Equal(t, want.URL, got.URL, "URL")
	assert.Equal(t, want.Method, got.Method, "Method")
	assert.Equal(t, want.ContentType, got.ContentType, "ContentType")
	assert.Equal(t, want.MaxAttempts, got.MaxAttempts, "MaxAttempts")
	assert.Equal(t, want.TenantSecret, got.TenantSecret, "TenantSecret")
	assert.Equal(t, want.Unsigned, got.Unsigned, "Unsigned")
	assert.Equal(t, want.Inactive, got.Inactive, "Inactive")
	if len(want.Events) == 0 {
		assert.Empty(t, got.Events, "Events")
	} else {
		assert.Equal(t, want.Events, got.Events, "Events")
	}
	if len(want.Headers) == 0 {
		assert.Empty(t, got.Headers, "Headers")
	} else {
		assert.Equal(t, want.Headers, got.Headers, "Headers")
	}
	assertTime(t, want.CreatedAt, got.CreatedAt, "CreatedAt")
	assertTime(t, want.UpdatedAt, got.UpdatedAt, "UpdatedAt")
}

// assertDelivery asserts that got has want's identity, timestamps and the
// given state and attempts.
func assertDelivery(t *testing.T, want, got *webhook.Delivery) {
	t.Helper()
	require.NotNil(t, got)
	assert.Equal(t, want.ID, got.ID, "ID")
	assert.Equal(t, want.EventID, got.EventID, "EventID")
	assert.Equal(t, want.EventType, got.EventType, "EventType")
	assert.Equal(t, want.TenantID, got.TenantID, "TenantID")
	assert.Equal(t, want.EndpointID, got.EndpointID, "EndpointID")
	assert.Equal(t, want.State, got.State, "State")
	assert.Equal(t, want.Attempts, got.Attempts, "Attempts")
	assert.Equal(t, want.LastError, got.LastError, "LastError")
	assertTime(t, want.NextAttemptAt, got.NextAttemptAt, "NextAttemptAt")
	assertTime(t, want.CreatedAt, got.CreatedAt, "CreatedAt")
}

// assertSecrets asserts that got are want, in order.
func assertSecrets(t *testing.T, want, got []webhook.Secret) {
	t.Helper()
	require.Len(t, got, len(want), "secrets: %+v", got)
	for i := range want {
		assert.Equal(t, want[i].Value, got[i].Value, "secret %d", i)
		assertTime(t, want[i].CreatedAt, got[i].CreatedAt, fmt.Sprintf("secret %d CreatedAt", i))
		assertTime(t, want[i].ExpiresAt, got[i].ExpiresAt, fmt.Sprintf("secret %d ExpiresAt", i))
	}
}
