package badinput

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	webhook "github.com/outhook/webhook"
)

// Guard wraps s for a Dispatcher that is given only bad input: it calls
// report for every call that would write (none should reach the Store)
// and for every string argument that is not UTF-8 without NUL or every
// time outside the int64-nanosecond range (none should reach the Store
// either), then passes the call on. The Store it returns implements
// webhook.TxEnqueuer and webhook.InTxEnqueuer when s does.
func Guard(s webhook.Store, report func(string)) webhook.Store {
	g := &guard{s: s, report: report}
	tx, hasTx := s.(webhook.TxEnqueuer)
	inTx, hasInTx := s.(webhook.InTxEnqueuer)
	switch {
	case hasTx && hasInTx:
		return &bothGuard{txGuard: &txGuard{guard: g, tx: tx}, inTx: inTx}
	case hasTx:
		return &txGuard{guard: g, tx: tx}
	case hasInTx:
		return &inTxGuard{guard: g, inTx: inTx}
	}
	return g
}

type guard struct {
	s      webhook.Store
	report func(string)
}

var (
	minNanos = time.Unix(0, -1<<63)
	maxNanos = time.Unix(0, 1<<63-1)
)

// check reports the string arguments no Store can hold.
func (g *guard) check(method string, args ...any) {
	for i, a := range args {
		switch v := a.(type) {
		case string:
			if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
				g.report(fmt.Sprintf("%s: argument %d %q reached the Store", method, i, v))
			}
		case time.Time:
			if !v.IsZero() && (v.Before(minNanos) || v.After(maxNanos)) {
				g.report(fmt.Sprintf("%s: argument %d %v reached the Store", method, i, v))
			}
		}
	}
}

func (g *guard) write(method string) {
	g.report(method + " reached the Store")
}

func (g *guard) CreateEndpoint(ctx context.Context, ep *webhook.Endpoint, secret webhook.Secret, maxPerTenant int) error {
	g.write("CreateEndpoint")
	return g.s.CreateEndpoint(ctx, ep, secret, maxPerTenant)
}

func (g *guard) GetEndpoint(ctx context.Context, id string) (*webhook.Endpoint, error) {
	g.check("GetEndpoint", id)
	return g.s.GetEndpoint(ctx, id)
}

func (g *guard) ListEndpoints(ctx context.Context, tenantID string) ([]*webhook.Endpoint, error) {
	g.check("ListEndpoints", tenantID)
	return g.s.ListEndpoints(ctx, tenantID)
}

func (g *guard) UpdateEndpoint(ctx context.Context, ep *webhook.Endpoint) error {
	g.write("UpdateEndpoint")
	return g.s.UpdateEndpoint(ctx, ep)
}

func (g *guard) DeleteEndpoint(ctx context.Context, id string) error {
	g.write("DeleteEndpoint")
	return g.s.DeleteEndpoint(ctx, id)
}

func (g *guard) DisableEndpoint(ctx context.Context, id, reason string, now time.Time) error {
	g.write("DisableEndpoint")
	return g.s.DisableEndpoint(ctx, id, reason, now)
}

func (g *guard) EnableEndpoint(ctx context.Context, id string, now time.Time) error {
	g.write("EnableEndpoint")
	return g.s.EnableEndpoint(ctx, id, now)
}

func (g *guard) RotateSecret(ctx context.Context, id string, next webhook.Secret, oldExpiresAt time.Time) error {
	g.write("RotateSecret")
	return g.s.RotateSecret(ctx, id, next, oldExpiresAt)
}

func (g *guard) EndpointSecrets(ctx context.Context, id string, now time.Time) ([]webhook.Secret, error) {
	g.check("EndpointSecrets", id, now)
	return g.s.EndpointSecrets(ctx, id, now)
}

func (g *guard) Enqueue(ctx context.Context, ev *webhook.StoredEvent, deliveries []*webhook.Delivery) error {
	g.write("Enqueue")
	return g.s.Enqueue(ctx, ev, deliveries)
}

func (g *guard) Claim(ctx context.Context, p webhook.ClaimParams) ([]*webhook.Claim, error) {
	g.write("Claim")
	return g.s.Claim(ctx, p)
}

func (g *guard) Complete(ctx context.Context, c webhook.Completion) (*webhook.Endpoint, bool, error) {
	g.write("Complete")
	return g.s.Complete(ctx, c)
}

func (g *guard) GetEvent(ctx context.Context, id string) (*webhook.StoredEvent, error) {
	g.check("GetEvent", id)
	return g.s.GetEvent(ctx, id)
}

func (g *guard) GetDelivery(ctx context.Context, id string) (*webhook.Delivery, error) {
	g.check("GetDelivery", id)
	return g.s.GetDelivery(ctx, id)
}

func (g *guard) ListDeliveries(ctx context.Context, f webhook.DeliveryFilter) ([]*webhook.Delivery, string, error) {
	g.check("ListDeliveries", f.EndpointID, f.EventID, string(f.State), f.Cursor)
	return g.s.ListDeliveries(ctx, f)
}

func (g *guard) ListAttempts(ctx context.Context, deliveryID string) ([]*webhook.Attempt, error) {
	g.check("ListAttempts", deliveryID)
	return g.s.ListAttempts(ctx, deliveryID)
}

func (g *guard) Requeue(ctx context.Context, p webhook.RequeueParams) (int, error) {
	g.write("Requeue")
	return g.s.Requeue(ctx, p)
}

type txGuard struct {
	*guard
	tx webhook.TxEnqueuer
}

func (g *txGuard) EnqueueTx(ctx context.Context, tx *sql.Tx, ev *webhook.StoredEvent, deliveries []*webhook.Delivery) error {
	g.write("EnqueueTx")
	return g.tx.EnqueueTx(ctx, tx, ev, deliveries)
}

type inTxGuard struct {
	*guard
	inTx webhook.InTxEnqueuer
}

func (g *inTxGuard) EnqueueInTx(ctx context.Context, tx webhook.Tx, ev *webhook.StoredEvent, deliveries []*webhook.Delivery) error {
	g.write("EnqueueInTx")
	return g.inTx.EnqueueInTx(ctx, tx, ev, deliveries)
}

type bothGuard struct {
	*txGuard
	inTx webhook.InTxEnqueuer
}

func (g *bothGuard) EnqueueInTx(ctx context.Context, tx webhook.Tx, ev *webhook.StoredEvent, deliveries []*webhook.Delivery) error {
	g.write("EnqueueInTx")
	return g.inTx.EnqueueInTx(ctx, tx, ev, deliveries)
}
