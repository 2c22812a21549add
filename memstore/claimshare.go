package memstore

import (
	"time"

	webhook "github.com/outhook/webhook"
)

// claimState is what one Claim call keeps per endpoint, stamped with the
// call's number so that no map is made per call: how many deliveries it
// took, and the endpoint copy and secrets its claims share.
type claimState struct {
	call    uint64
	taken   int
	ep      *webhook.Endpoint
	secrets []webhook.Secret
}

// claimState returns er's state for Claim call number call, reset if
// er's is from an earlier call.
func (er *endpointRec) claimState(call uint64) *claimState {
	if er.claim.call != call {
		er.claim = claimState{call: call}
	}
	return &er.claim
}

// share returns the endpoint copy and the active secrets that every claim
// of er in this call carries: made at the first claim, shared by the
// others (webhook.Claim allows it: they must not be modified).
func (s *Store) share(st *claimState, er *endpointRec, now time.Time) (*webhook.Endpoint, []webhook.Secret) {
	if st.ep == nil {
		st.ep = er.ep.Clone()
		st.secrets = s.signingSecrets(er, now) // a new slice
	}
	return st.ep, st.secrets
}

// newClaim returns a claim with its own copy of d, both in one allocation.
func newClaim(d *webhook.Delivery) *webhook.Claim {
	b := &struct {
		c webhook.Claim
		d webhook.Delivery
	}{d: *d}
	b.c.Delivery = &b.d
	return &b.c
}
