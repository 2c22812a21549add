package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
)

// RateLimits tests webhook.RateLimitStore: Endpoint.RateLimit is
// configuration, stored by CreateEndpoint, replaced by UpdateEndpoint and
// returned by GetEndpoint, ListEndpoints, Claim and Complete.
func (s Suite) RateLimits(t *testing.T) {
	newStore := s.newStore()
	limit := webhook.RateLimit{PerSecond: 2.5, Burst: 7}

	t.Run("RateLimit round trips through create, get, list, claim and complete", func(t *testing.T) {
		f, _ := optional[webhook.RateLimitStore](t, newStore, "RateLimitStore")
		ep := f.createEndpoint(func(ep *webhook.Endpoint) { ep.RateLimit = limit })
		plain := f.createEndpoint()
		assert.Equal(t, limit, f.getEndpoint(ep.ID).RateLimit, "GetEndpoint")
		assert.Zero(t, f.getEndpoint(plain.ID).RateLimit, "GetEndpoint of an endpoint without one")
		list, err := f.s.ListEndpoints(f.ctx, f.tenant)
		require.NoError(t, err)
		require.Len(t, list, 2)
		assert.Equal(t, limit, list[0].RateLimit, "ListEndpoints")
		assert.Zero(t, list[1].RateLimit, "ListEndpoints")
		_, ds := f.enqueue(base, ep)
		c := f.claimOne(base, ds[0].ID)
		assert.Equal(t, limit, c.Endpoint.RateLimit, "Claim.Endpoint")
		after := f.succeed(c, at(time.Second))
		assert.Equal(t, limit, after.RateLimit, "Complete's endpoint")
	})

	t.Run("UpdateEndpoint replaces RateLimit, and clears it", func(t *testing.T) {
		f, _ := optional[webhook.RateLimitStore](t, newStore, "RateLimitStore")
		ep := f.createEndpoint()
		upd := f.getEndpoint(ep.ID)
		upd.RateLimit = webhook.RateLimit{PerSecond: 0.25}
		upd.UpdatedAt = at(time.Hour)
		require.NoError(t, f.s.UpdateEndpoint(f.ctx, upd))
		assert.Equal(t, webhook.RateLimit{PerSecond: 0.25}, f.getEndpoint(ep.ID).RateLimit)
		upd.RateLimit = webhook.RateLimit{}
		require.NoError(t, f.s.UpdateEndpoint(f.ctx, upd))
		assert.Zero(t, f.getEndpoint(ep.ID).RateLimit, "cleared")
	})
}
