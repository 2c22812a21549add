package webhook

import "context"

// GetDelivery returns one delivery of the log, or ErrNotFound.
func (d *Dispatcher) GetDelivery(ctx context.Context, id string) (*Delivery, error) {
	if err := checkID("delivery", id); err != nil {
		return nil, err
	}
	return d.store.GetDelivery(ctx, id)
}

// GetEvent returns a stored event with the exact body its deliveries send,
// or ErrNotFound (also once retention has pruned it).
func (d *Dispatcher) GetEvent(ctx context.Context, id string) (*StoredEvent, error) {
	if err := checkID("event", id); err != nil {
		return nil, err
	}
	return d.store.GetEvent(ctx, id)
}
