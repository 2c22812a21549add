// Package badinput is the table of hostile input that every public entry
// point of webhook.Dispatcher must refuse with a typed error, reaching no
// Store with it and storing nothing. The root package's tests run it on
// memstore and the integration module's on sqlstore (PostgreSQL and
// SQLite), so that every Store gives the same answer.
package badinput

import (
	"context"
	"database/sql"
	"net/http"
	"strings"
	"time"

	webhook "github.com/outhook/webhook"
)

// Text is a string no Store can hold unchanged.
type Text struct {
	Name string
	S    string
}

// Texts are the bad strings: a NUL byte (PostgreSQL text refuses it) and
// several kinds of invalid UTF-8 (PostgreSQL refuses them, JSON columns
// replace them with U+FFFD).
var Texts = []Text{
	{"NUL", "a\x00b"},
	{"invalid byte", "a\xffb"},
	{"lone continuation byte", "\x80"},
	{"truncated sequence", "x\xe2\x82"},
	{"UTF-8 surrogate", "\xed\xa0\x80"},
	{"overlong NUL", "\xc0\x80"},
}

// LongID is one byte longer than any ID a Store can hold.
var LongID = strings.Repeat("a", webhook.MaxEventIDLen+1)

// Times are Event.CreatedAt values outside what every Store can hold.
var Times = []time.Time{
	time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC),
	time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC),
	time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC),
	time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC),
}

// Fixture is what the calls need: things that exist, so that each call
// fails for its bad argument alone.
type Fixture struct {
	TenantID   string // the tenant of EndpointID
	EndpointID string // an endpoint of TenantID
	EventType  string // a type EndpointID subscribes to
	EventID    string // an event of TenantID, published before (for Take)
	// BeginTx, when set, adds PublishTx and PublishInTx calls run in a
	// transaction it opens; the call rolls it back.
	BeginTx func(ctx context.Context) (*sql.Tx, error)
}

// Call is one entry point with one bad argument.
type Call struct {
	Name string
	// Want is what errors.Is must find: webhook.ErrInvalid or
	// webhook.ErrNotFound.
	Want error
	Do   func(ctx context.Context, d *webhook.Dispatcher) error
}

// Calls returns every entry point with every bad input.
func Calls(f Fixture) []Call {
	var calls []Call
	add := func(name string, want error, do func(ctx context.Context, d *webhook.Dispatcher) error) {
		calls = append(calls, Call{Name: name, Want: want, Do: do})
	}
	good := func() webhook.EndpointParams {
		return webhook.EndpointParams{TenantID: f.TenantID, URL: "https://example.com/hook"}
	}
	for _, bt := range Texts {
		s := bt.S
		// Endpoint configuration, on creation and on update.
		params := []struct {
			field string
			edit  func(p *webhook.EndpointParams)
		}{
			{"TenantID", func(p *webhook.EndpointParams) { p.TenantID = s }},
			{"Name", func(p *webhook.EndpointParams) { p.Name = s }},
			{"URL path", func(p *webhook.EndpointParams) { p.URL = "https://example.com/" + s }},
			{"URL query", func(p *webhook.EndpointParams) { p.URL = "https://example.com/hook?key=" + s }},
			{"URL host", func(p *webhook.EndpointParams) { p.URL = "https://ex" + s + "ample.com/" }},
			{"Events", func(p *webhook.EndpointParams) { p.Events = []string{"post." + s} }},
			{"Secret", func(p *webhook.EndpointParams) { p.Secret = "0123456789abcdef" + s }},
			{"Headers", func(p *webhook.EndpointParams) { p.Headers = http.Header{"X-Token": {s}} }},
		}
		for _, pp := range params {
			p := good()
			pp.edit(&p)
			add("CreateEndpoint/"+pp.field+"/"+bt.Name, webhook.ErrInvalid, func(ctx context.Context, d *webhook.Dispatcher) error {
				_, _, err := d.CreateEndpoint(ctx, p)
				return err
			})
			if pp.field == "Secret" {
				continue // UpdateEndpoint rejects any secret
			}
			add("UpdateEndpoint/"+pp.field+"/"+bt.Name, webhook.ErrInvalid, func(ctx context.Context, d *webhook.Dispatcher) error {
				_, err := d.UpdateEndpoint(ctx, f.EndpointID, p)
				return err
			})
		}
		add("DisableEndpoint/reason/"+bt.Name, webhook.ErrInvalid, func(ctx context.Context, d *webhook.Dispatcher) error {
			return d.DisableEndpoint(ctx, f.EndpointID, s)
		})
		add("ListEndpoints/"+bt.Name, webhook.ErrInvalid, func(ctx context.Context, d *webhook.Dispatcher) error {
			_, err := d.ListEndpoints(ctx, s)
			return err
		})
		add("RotateTenantSecret/"+bt.Name, webhook.ErrInvalid, func(ctx context.Context, d *webhook.Dispatcher) error {
			_, err := d.RotateTenantSecret(ctx, s, time.Hour)
			return err
		})
		add("SetTenantSecret/TenantID/"+bt.Name, webhook.ErrInvalid, func(ctx context.Context, d *webhook.Dispatcher) error {
			return d.SetTenantSecret(ctx, s, "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", 0)
		})
		add("SetTenantSecret/Secret/"+bt.Name, webhook.ErrInvalid, func(ctx context.Context, d *webhook.Dispatcher) error {
			return d.SetTenantSecret(ctx, f.TenantID, "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="+s, 0)
		})
		for _, ev := range []struct {
			field string
			ev    webhook.Event
		}{
			{"TenantID", webhook.Event{TenantID: s, Type: f.EventType}},
			{"Type", webhook.Event{TenantID: f.TenantID, Type: "post." + s}},
			{"ID", webhook.Event{ID: "ev-" + s, TenantID: f.TenantID, Type: f.EventType}},
		} {
			addPublish(&calls, f, "Event."+ev.field+"/"+bt.Name, ev.ev)
		}
		calls = append(calls, idCalls(f, bt.Name, s)...)
	}
	calls = append(calls, idCalls(f, "too long", LongID)...)
	calls = append(calls, idCalls(f, "empty", "")...)
	add("ListEndpoints/too long", webhook.ErrInvalid, func(ctx context.Context, d *webhook.Dispatcher) error {
		_, err := d.ListEndpoints(ctx, strings.Repeat("t", webhook.MaxTenantIDLen+1))
		return err
	})
	add("ListDeliveries/State/unknown", webhook.ErrInvalid, func(ctx context.Context, d *webhook.Dispatcher) error {
		_, _, err := d.ListDeliveries(ctx, webhook.DeliveryFilter{State: "done"})
		return err
	})
	for _, at := range Times {
		addPublish(&calls, f, "Event.CreatedAt/"+at.Format("2006-01-02"), webhook.Event{TenantID: f.TenantID, Type: f.EventType, CreatedAt: at})
	}
	return calls
}

// idCalls are the calls that take an ID, each given id, which no Store
// can hold: lookups answer ErrNotFound, filters ErrInvalid. An empty ID
// is no filter, so "empty" adds lookups only.
func idCalls(f Fixture, name, id string) []Call {
	notFound := func(method string, do func(ctx context.Context, d *webhook.Dispatcher) error) Call {
		return Call{Name: method + "/" + name, Want: webhook.ErrNotFound, Do: do}
	}
	calls := []Call{
		notFound("GetEndpoint", func(ctx context.Context, d *webhook.Dispatcher) error {
			_, err := d.GetEndpoint(ctx, id)
			return err
		}),
		notFound("UpdateEndpoint", func(ctx context.Context, d *webhook.Dispatcher) error {
			_, err := d.UpdateEndpoint(ctx, id, webhook.EndpointParams{URL: "https://example.com/hook"})
			return err
		}),
		notFound("DeleteEndpoint", func(ctx context.Context, d *webhook.Dispatcher) error {
			return d.DeleteEndpoint(ctx, id)
		}),
		notFound("DisableEndpoint", func(ctx context.Context, d *webhook.Dispatcher) error {
			return d.DisableEndpoint(ctx, id, "")
		}),
		notFound("EnableEndpoint", func(ctx context.Context, d *webhook.Dispatcher) error {
			return d.EnableEndpoint(ctx, id)
		}),
		notFound("RotateSecret", func(ctx context.Context, d *webhook.Dispatcher) error {
			_, err := d.RotateSecret(ctx, id, time.Hour)
			return err
		}),
		notFound("SetEndpointActive", func(ctx context.Context, d *webhook.Dispatcher) error {
			return d.SetEndpointActive(ctx, id, true)
		}),
		notFound("Recover", func(ctx context.Context, d *webhook.Dispatcher) error {
			_, err := d.Recover(ctx, id, time.Time{})
			return err
		}),
		notFound("Redeliver", func(ctx context.Context, d *webhook.Dispatcher) error {
			return d.Redeliver(ctx, id)
		}),
		notFound("ListAttempts", func(ctx context.Context, d *webhook.Dispatcher) error {
			_, err := d.ListAttempts(ctx, id)
			return err
		}),
		notFound("SendTest", func(ctx context.Context, d *webhook.Dispatcher) error {
			_, err := d.SendTest(ctx, id)
			return err
		}),
	}
	if id == "" {
		return calls
	}
	filters := []struct {
		field string
		f     webhook.DeliveryFilter
	}{
		{"EndpointID", webhook.DeliveryFilter{EndpointID: id}},
		{"EventID", webhook.DeliveryFilter{EventID: id}},
		{"State", webhook.DeliveryFilter{State: webhook.DeliveryState(id)}},
	}
	if id != LongID {
		filters = append(filters, struct {
			field string
			f     webhook.DeliveryFilter
		}{"Cursor", webhook.DeliveryFilter{Cursor: id}})
	}
	for _, fl := range filters {
		calls = append(calls, Call{Name: "ListDeliveries/" + fl.field + "/" + name, Want: webhook.ErrInvalid, Do: func(ctx context.Context, d *webhook.Dispatcher) error {
			_, _, err := d.ListDeliveries(ctx, fl.f)
			return err
		}})
	}
	return calls
}

// addPublish adds Publish of ev, and PublishTx and PublishInTx when
// f.BeginTx is set.
func addPublish(calls *[]Call, f Fixture, name string, ev webhook.Event) {
	*calls = append(*calls, Call{Name: "Publish/" + name, Want: webhook.ErrInvalid, Do: func(ctx context.Context, d *webhook.Dispatcher) error {
		_, err := d.Publish(ctx, ev)
		return err
	}})
	if f.BeginTx == nil {
		return
	}
	*calls = append(*calls, Call{Name: "PublishTx/" + name, Want: webhook.ErrInvalid, Do: func(ctx context.Context, d *webhook.Dispatcher) error {
		tx, err := f.BeginTx(ctx)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		_, err = d.PublishTx(ctx, tx, ev)
		return err
	}})
	*calls = append(*calls, Call{Name: "PublishInTx/" + name, Want: webhook.ErrInvalid, Do: func(ctx context.Context, d *webhook.Dispatcher) error {
		tx, err := f.BeginTx(ctx)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		_, err = d.PublishInTx(ctx, webhook.WrapSQLTx(tx), ev)
		return err
	}})
}

// Snapshot is what a Store holds of a Fixture, to compare before and after
// the calls: nothing may change.
type Snapshot struct {
	Endpoints  []*webhook.Endpoint
	Secrets    []webhook.Secret
	Event      *webhook.StoredEvent
	Deliveries []*webhook.Delivery
}

// Take reads a Snapshot of f from s, with secrets as active at now.
func Take(ctx context.Context, s webhook.Store, f Fixture, now time.Time) (Snapshot, error) {
	var (
		sn  Snapshot
		err error
	)
	if sn.Endpoints, err = s.ListEndpoints(ctx, f.TenantID); err != nil {
		return sn, err
	}
	if sn.Secrets, err = s.EndpointSecrets(ctx, f.EndpointID, now); err != nil {
		return sn, err
	}
	if sn.Event, err = s.GetEvent(ctx, f.EventID); err != nil {
		return sn, err
	}
	sn.Deliveries, _, err = s.ListDeliveries(ctx, webhook.DeliveryFilter{Limit: 1000})
	return sn, err
}
