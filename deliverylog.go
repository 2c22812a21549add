package webhook

import "context"

// GetDelivery returns one delivery of the log, or ErrNotFound.
func (d *Dispatcher) GetDelivery(ctx context.Context, id string) (*Delivery, error) {
	return d.store.GetDelivery(ctx, id)
}

// GetEvent returns a stored event with the exact body its deliveries send,
// or ErrNotFound (also once retention has pruned it).
func (d *Dispatcher) GetEvent(ctx context.Context, id string) (*StoredEvent, error) {
	return d.store.GetEvent(ctx, id)
}
