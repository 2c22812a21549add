package portal

import (
	"math"
	"strconv"

	webhook "github.com/outhook/webhook"
)

// The application's flow-control settings of an endpoint as the page
// shows them, read-only: its own rate limit and whether it is ordered,
// and, on a delivery of an ordered endpoint, the earlier delivery it
// waits for. The customer's forms never change them (pageParseForm keeps
// them on an update).

// pageRateLimit describes an endpoint's own rate limit, e.g. "at most
// 2.5 attempts/s, bursts of 3"; "" when it has none. Config.RateLimit,
// the application's default, is not the portal's to know: the Dispatcher
// does not expose its Config.
func pageRateLimit(r webhook.RateLimit) string {
	if r.IsZero() {
		return ""
	}
	s := "at most " + pageRate(r.PerSecond)
	if b := max(r.Burst, 1); b > 1 {
		return s + ", bursts of " + strconv.Itoa(b)
	}
	return s + ", no bursts"
}

// pageRate writes a rate in the largest unit (second, minute, hour) that
// keeps it at 1 or more, to two decimals: "2.5 attempts/s", "30
// attempts/min", "1 attempt/h".
func pageRate(perSecond float64) string {
	v, unit := perSecond, "s"
	for _, u := range []string{"min", "h"} {
		if v >= 1 {
			break
		}
		v, unit = v*60, u
	}
	n := strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
	if n == "1" {
		return n + " attempt/" + unit
	}
	return n + " attempts/" + unit
}

// pageBlockedBy is the delivery d waits for (Delivery.BlockedBy) and the
// link to its page; "", "" unless d is a pending delivery of an ordered
// endpoint held back by an earlier one.
func (h *Handler) pageBlockedBy(d *webhook.Delivery) (id, link string) {
	if d.State != webhook.StatePending || d.BlockedBy == "" {
		return "", ""
	}
	return d.BlockedBy, h.link("/deliveries/" + d.BlockedBy)
}
