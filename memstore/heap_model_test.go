package memstore

import (
	"math/rand"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
)

// TestDeliveryHeapModel drives deliveryHeap with random push, pop,
// remove and init and checks the head and every index against a model.
func TestDeliveryHeapModel(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	base := time.Unix(1e9, 0)
	for round := 0; round < 200; round++ {
		h := &deliveryHeap{order: deliveryOrder(rng.Intn(4))}
		in := map[*deliveryRec]bool{}
		seq := uint64(0)
		for op := 0; op < 400; op++ {
			switch k := rng.Intn(10); {
			case k < 5:
				seq++
				at := base.Add(time.Duration(rng.Intn(20)) * time.Second)
				dr := &deliveryRec{seq: seq, d: webhook.Delivery{NextAttemptAt: at, UpdatedAt: at}, leaseUntil: at, index: -1}
				h.push(dr)
				in[dr] = true
			case k < 7 && len(h.items) > 0:
				want := h.items[0]
				for dr := range in {
					probe := &deliveryHeap{items: []*deliveryRec{dr, want}, order: h.order}
					if probe.less(0, 1) {
						t.Fatalf("round %d: head is not the least", round)
					}
				}
				if got := h.pop(); got != want || got.index != -1 || got.heap != nil {
					t.Fatalf("round %d: pop", round)
				}
				delete(in, want)
			case k < 9 && len(h.items) > 0:
				dr := h.items[rng.Intn(len(h.items))]
				if got := h.remove(dr.index); got != dr {
					t.Fatalf("round %d: remove returned another", round)
				}
				delete(in, dr)
			default:
				for _, dr := range h.items {
					dr.d.NextAttemptAt = base.Add(time.Duration(rng.Intn(20)) * time.Second)
				}
				h.init()
			}
			if len(h.items) != len(in) {
				t.Fatalf("round %d: %d items, model %d", round, len(h.items), len(in))
			}
			for i, dr := range h.items {
				if dr.index != i || dr.heap != h || !in[dr] {
					t.Fatalf("round %d: index broken at %d", round, i)
				}
				if i > 0 && h.less(i, (i-1)/2) {
					t.Fatalf("round %d: heap order broken at %d", round, i)
				}
			}
		}
	}
}
