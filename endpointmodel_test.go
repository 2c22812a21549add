package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
	"github.com/outhook/webhook/webhooktest"
)

// plainStore is a Store with no optional ability: memstore with its
// TenantSecretStore (and Maintainer) methods hidden.
type plainStore struct{ webhook.Store }

func TestTenantSecretSignsEveryEndpointOfTheTenant(t *testing.T) {
	ctx := context.Background()
	// ProductLift: header "Signature", hex HMAC-SHA256 of the raw body, one
	// secret per portal.
	f := setup(t, func(c *webhook.Config) { c.Signer = webhook.HMACSigner{Header: "Signature"} })
	a, b, own := webhooktest.NewReceiver(t), webhooktest.NewReceiver(t), webhooktest.NewReceiver(t)
	portalSecret, err := f.d.RotateTenantSecret(ctx, "portal-1", 0)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(portalSecret, webhook.SecretPrefix))
	epA, secret := f.endpoint(t, webhook.EndpointParams{TenantID: "portal-1", URL: a.URL(), TenantSecret: true})
	assert.Empty(t, secret, "a TenantSecret endpoint has no secret of its own")
	assert.True(t, epA.TenantSecret)
	f.endpoint(t, webhook.EndpointParams{TenantID: "portal-1", URL: b.URL(), TenantSecret: true})
	_, ownSecret := f.endpoint(t, webhook.EndpointParams{TenantID: "portal-1", URL: own.URL()})

	f.publish(t, webhook.Event{Type: "post.created", TenantID: "portal-1"})
	eventually(t, func() bool { return a.Len() == 1 && b.Len() == 1 && own.Len() == 1 }, "delivered")
	for _, rc := range []*webhooktest.Receiver{a, b} {
		r := rc.Requests()[0]
		assert.Equal(t, hexHMAC(portalSecret, r.Body), r.Header.Get("Signature"), "signed with the portal's secret")
	}
	r := own.Requests()[0]
	assert.Equal(t, hexHMAC(ownSecret, r.Body), r.Header.Get("Signature"), "an endpoint of its own keeps its secret")

	// One rotation reaches every TenantSecret endpoint; with no grace the
	// old secret stops signing at once.
	next, err := f.d.RotateTenantSecret(ctx, "portal-1", 0)
	require.NoError(t, err)
	require.NotEqual(t, portalSecret, next)
	f.publish(t, webhook.Event{Type: "post.created", TenantID: "portal-1"})
	eventually(t, func() bool { return a.Len() == 2 && b.Len() == 2 }, "delivered")
	for _, rc := range []*webhooktest.Receiver{a, b} {
		r := rc.Requests()[1]
		assert.Equal(t, hexHMAC(next, r.Body), r.Header.Get("Signature"), "signed with the rotated secret")
	}

	// SendTest signs the same way.
	at, err := f.d.SendTest(ctx, epA.ID)
	require.NoError(t, err)
	require.True(t, at.Success)
	r = a.Requests()[2]
	assert.Equal(t, hexHMAC(next, r.Body), r.Header.Get("Signature"))

	_, err = f.d.RotateSecret(ctx, epA.ID, 0)
	var ve *webhook.ValidationError
	require.ErrorAs(t, err, &ve, "an endpoint on its tenant's secret has none of its own to rotate")
}

func TestTenantSecretRotationGraceSignsWithBoth(t *testing.T) {
	ctx := context.Background()
	f := setup(t, nil) // Standard Webhooks: one v1 signature per active secret
	rc := webhooktest.NewReceiver(t)
	const imported = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	require.NoError(t, f.d.SetTenantSecret(ctx, "acct", imported, 0))
	f.endpoint(t, webhook.EndpointParams{TenantID: "acct", URL: rc.URL(), TenantSecret: true})
	next, err := f.d.RotateTenantSecret(ctx, "acct", time.Hour)
	require.NoError(t, err)
	f.publish(t, webhook.Event{Type: "post.created", TenantID: "acct"})
	eventually(t, func() bool { return rc.Len() == 1 }, "delivered")
	r := rc.Requests()[0]
	assert.Len(t, strings.Fields(r.Header.Get("webhook-signature")), 2, "both secrets sign during the grace period")
	assert.NoError(t, webhook.Verify(imported, r.Header, r.Body, time.Now()))
	assert.NoError(t, webhook.Verify(next, r.Header, r.Body, time.Now()))
}

func TestTenantSecretValidation(t *testing.T) {
	ctx := context.Background()
	d, err := webhook.NewDispatcher(memstore.New(), &webhook.Config{})
	require.NoError(t, err)
	cases := []struct {
		name  string
		field string
		do    func() error
	}{
		{"TenantSecret before the tenant has a secret", "TenantSecret", func() error {
			_, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "t", URL: "https://example.com/", TenantSecret: true})
			return err
		}},
		{"TenantSecret with a Secret", "Secret", func() error {
			_, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "t", URL: "https://example.com/", TenantSecret: true, Secret: "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="})
			return err
		}},
		{"negative grace", "grace", func() error {
			_, err := d.RotateTenantSecret(ctx, "t", -time.Second)
			return err
		}},
		{"empty secret", "Secret", func() error { return d.SetTenantSecret(ctx, "t", "", 0) }},
		{"secret the signer cannot use", "Secret", func() error { return d.SetTenantSecret(ctx, "t", "not-a-standard-secret", 0) }},
		{"tenant ID with a control character", "TenantID", func() error {
			_, err := d.RotateTenantSecret(ctx, "t\n", 0)
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ve *webhook.ValidationError
			require.ErrorAs(t, c.do(), &ve)
			assert.Equal(t, c.field, ve.Field)
		})
	}
	eps, err := d.ListEndpoints(ctx, "t")
	require.NoError(t, err)
	assert.Empty(t, eps, "nothing stored")
}

func TestTenantSecretNeedsTheStoreAbility(t *testing.T) {
	ctx := context.Background()
	d, err := webhook.NewDispatcher(plainStore{memstore.New()}, &webhook.Config{})
	require.NoError(t, err)
	_, err = d.RotateTenantSecret(ctx, "t", 0)
	assert.ErrorIs(t, err, webhook.ErrNotSupported)
	assert.ErrorIs(t, d.SetTenantSecret(ctx, "t", "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", 0), webhook.ErrNotSupported)
	_, _, err = d.CreateEndpoint(ctx, webhook.EndpointParams{URL: "https://example.com/", TenantSecret: true})
	assert.ErrorIs(t, err, webhook.ErrNotSupported)
}

func TestUnsignedEndpointSendsNoSignature(t *testing.T) {
	ctx := context.Background()
	// The workspace product: X-Signature, hex HMAC-SHA256, optional secret.
	f := setup(t, func(c *webhook.Config) { c.Signer = webhook.HMACSigner{Header: "X-Signature"} })
	signed, unsigned := webhooktest.NewReceiver(t), webhooktest.NewReceiver(t)
	_, secret := f.endpoint(t, webhook.EndpointParams{URL: signed.URL(), Secret: "a-secret-the-customer-typed"})
	ep, none := f.endpoint(t, webhook.EndpointParams{URL: unsigned.URL(), Unsigned: true})
	assert.Empty(t, none, "an Unsigned endpoint has no secret")
	assert.True(t, ep.Unsigned)

	ev := f.publish(t, webhook.Event{Type: "item.created"})
	eventually(t, func() bool { return signed.Len() == 1 && unsigned.Len() == 1 }, "both delivered")
	r := signed.Requests()[0]
	assert.Equal(t, hexHMAC(secret, r.Body), r.Header.Get("X-Signature"))
	r = unsigned.Requests()[0]
	assert.Empty(t, r.Header.Values("X-Signature"), "no signature header")
	assert.Empty(t, r.Header.Values("webhook-signature"))
	assert.Equal(t, ev.ID, r.Header.Get("webhook-id"), "webhook-id still goes")
	assert.NotEmpty(t, r.Header.Get("webhook-timestamp"), "webhook-timestamp still goes")
	eventually(t, func() bool {
		ds := f.deliveries(t, webhook.DeliveryFilter{EndpointID: ep.ID})
		return len(ds) == 1 && ds[0].State == webhook.StateSucceeded
	}, "the unsigned delivery succeeded")

	a, err := f.d.SendTest(ctx, ep.ID)
	require.NoError(t, err)
	assert.True(t, a.Success, "SendTest works unsigned: %s", a.Error)
	assert.Empty(t, unsigned.Requests()[1].Header.Values("X-Signature"))

	_, err = f.d.RotateSecret(ctx, ep.ID, 0)
	var ve *webhook.ValidationError
	require.ErrorAs(t, err, &ve, "an Unsigned endpoint has no secret to rotate")
}

func TestSigningModeIsValidatedAndFixedAtCreation(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	d, err := webhook.NewDispatcher(store, &webhook.Config{})
	require.NoError(t, err)
	_, err = d.RotateTenantSecret(ctx, "t", 0)
	require.NoError(t, err)
	base := webhook.EndpointParams{TenantID: "t", URL: "https://example.com/"}
	create := []struct {
		name  string
		field string
		edit  func(*webhook.EndpointParams)
	}{
		{"Unsigned and TenantSecret", "Unsigned", func(p *webhook.EndpointParams) { p.Unsigned, p.TenantSecret = true, true }},
		{"Unsigned with a Secret", "Secret", func(p *webhook.EndpointParams) {
			p.Unsigned, p.Secret = true, "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
		}},
		{"TenantSecret with a Secret", "Secret", func(p *webhook.EndpointParams) {
			p.TenantSecret, p.Secret = true, "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
		}},
	}
	for _, c := range create {
		t.Run("create/"+c.name, func(t *testing.T) {
			p := base
			c.edit(&p)
			_, _, err := d.CreateEndpoint(ctx, p)
			var ve *webhook.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, c.field, ve.Field)
		})
	}

	own, _, err := d.CreateEndpoint(ctx, base)
	require.NoError(t, err)
	p := base
	p.Unsigned = true
	_, err = d.UpdateEndpoint(ctx, own.ID, p)
	var ve *webhook.ValidationError
	require.ErrorAs(t, err, &ve, "a signed endpoint cannot become unsigned")
	assert.Equal(t, "Unsigned", ve.Field)
	p = base
	p.TenantSecret = true
	_, err = d.UpdateEndpoint(ctx, own.ID, p)
	require.ErrorAs(t, err, &ve, "nor move to its tenant's secret")
	assert.Equal(t, "TenantSecret", ve.Field)

	// An update that leaves Unsigned false keeps it: the mode is fixed.
	p = base
	p.Unsigned = true
	off, _, err := d.CreateEndpoint(ctx, p)
	require.NoError(t, err)
	got, err := d.UpdateEndpoint(ctx, off.ID, webhook.EndpointParams{URL: "https://example.com/new"})
	require.NoError(t, err)
	assert.True(t, got.Unsigned)
	assert.Equal(t, "https://example.com/new", got.URL)
	secrets, err := store.EndpointSecrets(ctx, off.ID, time.Now())
	require.NoError(t, err)
	assert.Empty(t, secrets, "no secret was made for it")
}

func TestInactiveEndpointGetsNothingUntilActivated(t *testing.T) {
	ctx := context.Background()
	f := setup(t, nil)
	rc, other := webhooktest.NewReceiver(t), webhooktest.NewReceiver(t)
	ep, _ := f.endpoint(t, webhook.EndpointParams{URL: rc.URL(), Inactive: true})
	assert.True(t, ep.Inactive, "settable at creation")
	assert.False(t, ep.Disabled, "inactive is not disabled")
	f.endpoint(t, webhook.EndpointParams{URL: other.URL()})

	f.publish(t, webhook.Event{Type: "post.created"})
	eventually(t, func() bool { return other.Len() == 1 }, "the active endpoint gets it")
	assert.Empty(t, f.deliveries(t, webhook.DeliveryFilter{EndpointID: ep.ID}), "no delivery for the inactive endpoint")

	require.NoError(t, f.d.SetEndpointActive(ctx, ep.ID, true))
	got := f.get(t, ep.ID)
	assert.False(t, got.Inactive)
	f.publish(t, webhook.Event{Type: "post.created"})
	eventually(t, func() bool { return rc.Len() == 1 }, "delivered once active")
	assert.Equal(t, 1, rc.Len(), "the event published while inactive is not sent")
}

func TestSwitchingOffPausesPendingDeliveriesWithoutCountingFailures(t *testing.T) {
	ctx := context.Background()
	var clock atomic.Int64 // Unix nanoseconds
	clock.Store(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	var failing atomic.Bool
	failing.Store(true)
	rc := webhooktest.NewReceiver(t, webhooktest.WithResponder(func(w http.ResponseWriter, _ *http.Request, _ int) {
		if failing.Load() {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	f := setup(t, func(c *webhook.Config) {
		c.Retry = webhook.FixedSchedule(time.Hour, time.Hour)
		c.Clock = func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	})
	ep, _ := f.endpoint(t, webhook.EndpointParams{URL: rc.URL(), MaxAttempts: 3})
	f.publish(t, webhook.Event{Type: "post.created"})
	eventually(t, func() bool { return rc.Len() == 1 }, "first attempt")
	eventually(t, func() bool {
		ds := f.deliveries(t, webhook.DeliveryFilter{EndpointID: ep.ID})
		return len(ds) == 1 && ds[0].Attempts == 1
	}, "first attempt recorded")

	require.NoError(t, f.d.SetEndpointActive(ctx, ep.ID, false))
	got := f.get(t, ep.ID)
	assert.True(t, got.Inactive)
	assert.False(t, got.Disabled)
	// The retry is due, but the endpoint is off: nothing goes, nothing fails.
	f.publish(t, webhook.Event{Type: "post.created"}) // creates no delivery
	failing.Store(false)
	clock.Add(int64(2 * time.Hour)) // the retry is due
	// A negative needs a wait: several polls (every 5 ms) with the retry due.
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, 1, rc.Len(), "no attempt while inactive")
	ds := f.deliveries(t, webhook.DeliveryFilter{EndpointID: ep.ID})
	require.Len(t, ds, 1)
	assert.Equal(t, webhook.StatePending, ds[0].State, "paused, not failed")
	assert.Zero(t, f.get(t, ep.ID).ConsecutiveFailures)

	require.NoError(t, f.d.SetEndpointActive(ctx, ep.ID, true))
	eventually(t, func() bool { return rc.Len() == 2 }, "the waiting retry goes once active")
	eventually(t, func() bool {
		ds := f.deliveries(t, webhook.DeliveryFilter{EndpointID: ep.ID})
		return len(ds) == 1 && ds[0].State == webhook.StateSucceeded
	}, "and succeeds")
}

func TestUpdateEndpointSetsInactive(t *testing.T) {
	ctx := context.Background()
	f := setup(t, nil)
	ep, _ := f.endpoint(t, webhook.EndpointParams{URL: "http://127.0.0.1:1/"})
	got, err := f.d.UpdateEndpoint(ctx, ep.ID, webhook.EndpointParams{URL: ep.URL, Inactive: true})
	require.NoError(t, err)
	assert.True(t, got.Inactive)
	got, err = f.d.UpdateEndpoint(ctx, ep.ID, webhook.EndpointParams{URL: ep.URL})
	require.NoError(t, err)
	assert.False(t, got.Inactive, "UpdateEndpoint replaces every field")
	require.NoError(t, f.d.SetEndpointActive(ctx, ep.ID, true), "setting the state it has is fine")
	err = f.d.SetEndpointActive(ctx, "00000000-0000-0000-0000-000000000000", false)
	assert.True(t, errors.Is(err, webhook.ErrNotFound), "%v", err)
}
