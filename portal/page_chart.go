package portal

import (
	"context"
	"fmt"
	"time"

	webhook "github.com/outhook/webhook"
)

// The chart of an endpoint's last 24 hours: one stacked bar per hour of
// its deliveries by outcome, drawn as inline SVG (no script, no library)
// whose colours come from the stylesheet's variables.

const (
	pageChartHours = 24
	// pageChartCap bounds the deliveries counted for one chart; beyond it
	// the chart says "2000+".
	pageChartCap  = 2000
	pageChartPage = 200
	// Geometry of the SVG, in its own units.
	pageChartBarW   = 8
	pageChartGap    = 2
	pageChartHeight = 40
)

// pageChart is the data of one endpoint's chart.
type pageChart struct {
	Bars                       []pageChartBar
	Succeeded, Failed, Pending int
	Total                      int
	Capped                     bool // more than pageChartCap deliveries: counts are a lower bound
	Width, Height              int
	From, To                   time.Time
}

// pageChartBar is one hour's bar: three stacked rectangles.
type pageChartBar struct {
	X, W                       int
	Start                      time.Time
	Succeeded, Failed, Pending int
	OKY, OKH, FailY, FailH     int
	PendY, PendH               int
	Label                      string // for the bar's <title>
}

// TotalLabel is the count shown beside the chart.
func (c *pageChart) TotalLabel() string {
	if c.Capped {
		return fmt.Sprintf("%d+", pageChartCap)
	}
	return fmt.Sprint(c.Total)
}

// Summary is the chart's text alternative.
func (c *pageChart) Summary() string {
	plus := ""
	if c.Capped {
		plus = " (at least; only the newest are counted)"
	}
	return fmt.Sprintf("Deliveries in the last 24 hours: %s in all%s; %d succeeded, %d failed, %d pending.",
		c.TotalLabel(), plus, c.Succeeded, c.Failed, c.Pending)
}

// pageChartFor counts the endpoint's deliveries of the last 24 hours by
// hour and outcome. It reads at most pageChartCap deliveries, always
// scoped to the tenant.
func (h *Handler) pageChartFor(ctx context.Context, tenant, endpointID string) (*pageChart, error) {
	now := h.cfg.Clock()
	to := now.Truncate(time.Hour).Add(time.Hour)
	from := to.Add(-pageChartHours * time.Hour)
	c := &pageChart{From: from, To: to, Height: pageChartHeight,
		Width: pageChartHours*(pageChartBarW+pageChartGap) - pageChartGap}
	bars := make([]pageChartBar, pageChartHours)
	for i := range bars {
		bars[i].Start = from.Add(time.Duration(i) * time.Hour)
	}
	f := webhook.DeliveryFilter{TenantID: tenant, EndpointID: endpointID, Since: now.Add(-24 * time.Hour), Limit: pageChartPage}
	for {
		page, next, err := h.d.ListDeliveries(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, d := range page {
			if c.Total == pageChartCap {
				c.Capped = true
				break
			}
			c.Total++
			i := int(d.CreatedAt.Sub(from) / time.Hour)
			if i < 0 || i >= pageChartHours {
				continue
			}
			switch d.State {
			case webhook.StateSucceeded:
				bars[i].Succeeded++
				c.Succeeded++
			case webhook.StateFailed:
				bars[i].Failed++
				c.Failed++
			default:
				bars[i].Pending++
				c.Pending++
			}
		}
		if next == "" || c.Capped {
			break
		}
		f.Cursor = next
	}
	peak := 1
	for _, b := range bars {
		peak = max(peak, b.Succeeded+b.Failed+b.Pending)
	}
	for i := range bars {
		b := &bars[i]
		b.X, b.W = i*(pageChartBarW+pageChartGap), pageChartBarW
		scale := func(n int) int {
			if n == 0 {
				return 0
			}
			return max(1, n*pageChartHeight/peak) // a single delivery stays visible
		}
		b.OKH, b.FailH, b.PendH = scale(b.Succeeded), scale(b.Failed), scale(b.Pending)
		y := pageChartHeight
		y -= b.OKH
		b.OKY = y
		y -= b.FailH
		b.FailY = y
		y -= b.PendH
		b.PendY = y
		b.Label = fmt.Sprintf("%s–%s UTC: %d succeeded, %d failed, %d pending",
			b.Start.UTC().Format("15:04"), b.Start.Add(time.Hour).UTC().Format("15:04"), b.Succeeded, b.Failed, b.Pending)
	}
	c.Bars = bars
	return c, nil
}
