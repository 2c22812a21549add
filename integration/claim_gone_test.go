package integration

import (
	"context"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
)

// TestClaimEndpointDeletedAfterLease: on PostgreSQL the fast claim leases
// in one autocommitted statement and reads the claimed deliveries'
// endpoints in the next, so a DeleteEndpoint can commit in between. That
// must cost the deleted endpoint's deliveries only: the claim still hands
// out the other endpoints' deliveries, rather than failing and leaving
// them leased, and unsent, until their leases end.
//
// A trigger stands in for the DeleteEndpoint: it deletes the endpoint's
// row as the claim leases its delivery, so the endpoint is gone when the
// claim reads it.
func TestClaimEndpointDeletedAfterLease(t *testing.T) {
	pgURL(t)
	ctx := context.Background()
	sd := newSeed(t, backends()[0], nil)
	gone := sd.endpoint("whsec_dGhlLXNlY3JldC1vZi1lbmRwb2ludC0y")
	orphan := sd.enqueue(gone, t0)
	kept := sd.enqueue(sd.ep, t0.Add(time.Second))
	if _, err := sd.db.ExecContext(ctx, `CREATE FUNCTION delete_endpoint_on_lease() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN DELETE FROM outhook_endpoints WHERE id = NEW.endpoint_id; RETURN NULL; END $$`); err != nil {
		t.Fatal(err)
	}
	if _, err := sd.db.ExecContext(ctx, `CREATE TRIGGER delete_endpoint_on_lease AFTER UPDATE OF claim_token ON outhook_deliveries
		FOR EACH ROW WHEN (NEW.endpoint_id = '`+gone.ID+`' AND NEW.claim_token IS NOT NULL) EXECUTE FUNCTION delete_endpoint_on_lease()`); err != nil {
		t.Fatal(err)
	}

	claims, err := sd.s.Claim(ctx, webhook.ClaimParams{Now: t0.Add(time.Minute), Lease: time.Minute, Limit: 10, MaxPerEndpoint: 4})
	if err != nil {
		t.Fatalf("Claim: %v; want the other endpoint's delivery", err)
	}
	if len(claims) != 1 || claims[0].Delivery.ID != kept.ID {
		var got []string
		for _, c := range claims {
			got = append(got, c.Delivery.ID)
		}
		t.Fatalf("claimed %v, want only %s", got, kept.ID)
	}
	if claims[0].Endpoint == nil || claims[0].Endpoint.ID != sd.ep.ID || len(claims[0].Secrets) != 1 {
		t.Fatalf("claim's endpoint %+v with %d secrets, want %s with its secret", claims[0].Endpoint, len(claims[0].Secrets), sd.ep.ID)
	}

	// The trigger deleted the endpoint but not its delivery, as a
	// DeleteEndpoint would have: once its lease ends, the next claim ends
	// it rather than handing it out.
	claims, err = sd.s.Claim(ctx, webhook.ClaimParams{Now: t0.Add(3 * time.Minute), Lease: time.Minute, Limit: 10, MaxPerEndpoint: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range claims {
		if c.Delivery.ID == orphan.ID {
			t.Fatalf("the deleted endpoint's delivery was handed out")
		}
	}
	d, err := sd.s.GetDelivery(ctx, orphan.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.State != webhook.StateFailed {
		t.Fatalf("the deleted endpoint's delivery is %s (%q), want failed", d.State, d.LastError)
	}
}

// TestClaimGivesBackLeasesItCannotHandOut: when reading the claimed
// deliveries' endpoints fails after the fast claim's statement committed
// their leases, the claim gives the leases back, so the deliveries are
// due again at once rather than when their leases end. A trigger makes
// the read fail: it renames the secrets table as the claim leases.
func TestClaimGivesBackLeasesItCannotHandOut(t *testing.T) {
	pgURL(t)
	ctx := context.Background()
	sd := newSeed(t, backends()[0], nil)
	a := sd.enqueue(sd.ep, t0)
	b := sd.enqueue(sd.ep, t0.Add(time.Second))
	if _, err := sd.db.ExecContext(ctx, `CREATE FUNCTION hide_secrets() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN ALTER TABLE IF EXISTS outhook_secrets RENAME TO hidden_secrets; RETURN NULL; END $$`); err != nil {
		t.Fatal(err)
	}
	if _, err := sd.db.ExecContext(ctx, `CREATE TRIGGER hide_secrets AFTER UPDATE OF claim_token ON outhook_deliveries
		FOR EACH ROW WHEN (NEW.claim_token IS NOT NULL) EXECUTE FUNCTION hide_secrets()`); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(time.Minute)
	if _, err := sd.s.Claim(ctx, webhook.ClaimParams{Now: now, Lease: time.Minute, Limit: 10, MaxPerEndpoint: 4}); err == nil {
		t.Fatal("Claim succeeded without the secrets table")
	}
	for _, q := range []string{`DROP TRIGGER hide_secrets ON outhook_deliveries`, `ALTER TABLE hidden_secrets RENAME TO outhook_secrets`} {
		if _, err := sd.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	claims, err := sd.s.Claim(ctx, webhook.ClaimParams{Now: now, Lease: time.Minute, Limit: 10, MaxPerEndpoint: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(claims) != 2 || claims[0].Delivery.ID != a.ID || claims[1].Delivery.ID != b.ID {
		t.Fatalf("%d claims at once after the failed claim, want %s and %s: the failed claim kept their leases", len(claims), a.ID, b.ID)
	}
}
