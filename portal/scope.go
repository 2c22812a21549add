package portal

import (
	"context"
	"fmt"

	webhook "github.com/outhook/webhook"
)

// Every read and change of the portal goes through these loaders, which
// treat another tenant's endpoint or delivery exactly as a missing one: a
// customer can neither see nor change it, nor learn that it exists.

// endpoint returns tenant's endpoint id, or an error wrapping
// webhook.ErrNotFound.
func (h *Handler) endpoint(ctx context.Context, tenant, id string) (*webhook.Endpoint, error) {
	ep, err := h.d.GetEndpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	if ep.TenantID != tenant {
		return nil, fmt.Errorf("portal: endpoint %q: %w", id, webhook.ErrNotFound)
	}
	return ep, nil
}

// delivery returns tenant's delivery id, or an error wrapping
// webhook.ErrNotFound.
func (h *Handler) delivery(ctx context.Context, tenant, id string) (*webhook.Delivery, error) {
	d, err := h.d.GetDelivery(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.TenantID != tenant {
		return nil, fmt.Errorf("portal: delivery %q: %w", id, webhook.ErrNotFound)
	}
	return d, nil
}
