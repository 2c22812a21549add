package main

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

// The harness's measurements are benchmarks, run by `make bench`; these
// tests only check its bookkeeping, in milliseconds.

func TestLiveID(t *testing.T) {
	sent := time.Unix(0, 1_700_000_000_123_456_789)
	for _, tc := range []struct {
		name string
		id   string
		want bool
	}{
		{"live", liveID(sent, "3-14"), true},
		{"other", "raw-12", false},
		{"no dash", "L123", false},
		{"not a number", "Lx-1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseLiveID(tc.id)
			if ok != tc.want || (ok && !got.Equal(sent)) {
				t.Errorf("parseLiveID(%q) = %v, %v", tc.id, got, ok)
			}
		})
	}
}

func TestRowsMedianAndTargets(t *testing.T) {
	e := &env{p: quickParams, info: map[string]string{}}
	results := map[string][]figures{
		"pg-live": {
			{"river/s": 1000, "outhook/s": 1600, "river_p50_ms": 10, "outhook_p50_ms": 5, "river_p99_ms": 20, "outhook_p99_ms": 30, "river_pub/s": 1, "outhook_pub/s": 1},
			{"river/s": 1000, "outhook/s": 1400, "river_p50_ms": 10, "outhook_p50_ms": 5, "river_p99_ms": 20, "outhook_p99_ms": 10, "river_pub/s": 1, "outhook_pub/s": 1},
			{"river/s": 1000, "outhook/s": 1550, "river_p50_ms": 10, "outhook_p50_ms": 5, "river_p99_ms": 20, "outhook_p99_ms": 19, "river_pub/s": 1, "outhook_pub/s": 1},
		},
	}
	rows := buildRows(results, e)
	byLabel := map[string]row{}
	for _, r := range rows {
		byLabel[r.label] = r
	}
	tput := byLabel["PostgreSQL live, 8 publishers"]
	if tput.ratio != 1.55 || tput.ratioMin != 1.4 || tput.ratioMax != 1.6 || tput.runs != 3 {
		t.Errorf("throughput row = %+v, want the median ratio 1.55 of 1.4..1.6 over 3 runs", tput)
	}
	if met, ok := tput.met(); !ok || !met {
		t.Errorf("1.55× against ≥ 1.5× reads as not met")
	}
	p99 := byLabel["PostgreSQL live, publish→receiver p99"]
	if met, ok := p99.met(); !ok || !met || p99.ratio != 0.95 {
		t.Errorf("p99 row = %+v: the median ratio 0.95 meets ≤ 1×", p99)
	}
	if len(rows) != 4 {
		t.Errorf("%d rows, want the 4 of pg-live alone", len(rows))
	}
}

func TestReportAndChart(t *testing.T) {
	e := &env{p: quickParams, info: map[string]string{}}
	results := map[string][]figures{
		"memstore":  {{"raw/s": 20000, "memstore/s": 12000, "raw_cpu_us": 50, "memstore_cpu_us": 80}},
		"isolation": {{"healthy/s": 1000, "hang10/s": 990, "hang30/s": 300, "misbehaving/s": 100}},
	}
	rows := buildRows(results, e)
	m := &machine{cpus: 2, model: "test CPU", goVersion: "go", loadStart: "3.00, 2.00, 1.00", loadEnd: "3.00, 2.00, 1.00", args: "go run ./bench -quick"}
	md := markdown(m, e, rows, []string{"pg-live (no PostgreSQL)"}, "bench/ratios.svg")
	for _, want := range []string{"shared and noisy", "![ratios", "bench/ratios.svg", "| memstore end to end, 32 in flight | deliveries/s | tuned net/http POST loop | 20,000 | 12,000 | 0.60× | ≥ 0.9× | no |", "Not run: pg-live", "10k and then 1M events"} {
		if !strings.Contains(md, want) {
			t.Errorf("BENCHMARKS.md lacks %q:\n%s", want, md)
		}
	}
	chart := svgChart(rows)
	if err := xml.Unmarshal([]byte(chart), new(struct{})); err != nil {
		t.Fatalf("the chart is not well-formed XML: %v\n%s", err, chart)
	}
	if n := strings.Count(chart, "<rect "); n != len(rows)+1 {
		t.Errorf("%d rects, want a background and one bar for each of %d rows", n, len(rows))
	}
}

func TestMergeShapes(t *testing.T) {
	got := mergeShapes([]stmt{
		{query: "UPDATE d SET lease_token = $1 || id, due_at = $2 WHERE id IN ($3, $4, $5)", calls: 1, ms: 1},
		{query: "UPDATE d SET lease_token = $1 || id, due_at = $2\n\t\tWHERE id IN ($3, $4)", calls: 2, ms: 3},
		{query: "SELECT 1 FROM d WHERE (id, t) IN (VALUES ($1, $2), ($3, $4))", calls: 1, ms: 0.5},
	})
	if len(got) != 2 || got[0].calls != 3 || got[0].ms != 4 || got[0].query != "UPDATE d SET lease_token = ? || id, due_at = ? WHERE id IN (…)" {
		t.Errorf("mergeShapes = %+v, want the two UPDATEs as one, first", got)
	}
	if len(got) == 2 && got[1].query != "SELECT 1 FROM d WHERE (id, t) IN (VALUES (…), …)" {
		t.Errorf("VALUES list shape = %q", got[1].query)
	}
}
