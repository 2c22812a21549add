package memstore

import "time"

// How the due queue works.
//
// Every endpoint keeps its own heap of the pending deliveries that are not
// leased, ordered by NextAttemptAt and then by creation sequence. The Store
// keeps one heap of the endpoints that have such deliveries, ordered by the
// head of each endpoint's heap. The head of that heap of heads is therefore
// the globally oldest due delivery, exactly as one big heap would give, but
// an endpoint at its in-flight cap can be set aside with a single pop
// instead of popping (and pushing back) every one of its deliveries: Claim
// costs O((k + e) log n) for k claims and e capped endpoints, however many
// deliveries wait.
//
// Leased deliveries leave their endpoint's heap and go to a second, global
// heap ordered by lease expiry. At the start of every Claim the leases that
// expired by then are moved back to their endpoints' heaps, where they keep
// their original NextAttemptAt and sequence, so a delivery whose worker died
// is again "oldest due first". Complete removes a delivery from whichever
// heap holds it by its index.
//
// Ended (succeeded or failed) deliveries go to a third, global heap ordered
// by UpdatedAt, from which Prune takes those that ended before its cutoff
// without looking at the others. Every delivery is therefore in exactly one
// heap: its endpoint's when pending and unleased, the leased heap when
// pending and leased, the ended heap otherwise. Requeue takes a delivery
// out of the ended heap by its index.
//
// An Ordered endpoint (webhook.OrderedStore) orders its own heap by
// creation sequence instead (publish order), so the head of its heap is
// its earliest pending delivery, due or not; and it stays out of the heap
// of heads while it has a leased delivery (fixReady). Claim therefore
// finds an Ordered endpoint only when its earliest delivery may go, and
// takes one at most: the head of the heap of heads is then ordered by
// that one's due time like any other.
//
// Events that have no delivery left (never had one, or lost the last one to
// Prune or DeleteEndpoint) wait in a heap ordered by CreatedAt until Prune
// deletes them. An event never gains deliveries after Enqueue, so once in
// that heap it stays there until it is deleted.

// deliveryOrder is what a deliveryHeap is ordered by.
type deliveryOrder int

const (
	byDue     deliveryOrder = iota // NextAttemptAt: an endpoint's unleased pending deliveries
	byLease                        // lease expiry: leased deliveries
	byUpdated                      // UpdatedAt: ended deliveries
	bySeq                          // creation sequence: an Ordered endpoint's unleased pending deliveries
)

// deliveryHeap is a heap of deliveries ordered by NextAttemptAt, lease
// expiry or UpdatedAt (see order) and then by creation sequence, and
// keeps deliveryRec.index up to date. It is a binary heap written for
// this one type (push, pop, remove, init) rather than container/heap,
// which makes an interface call per comparison: Claim pops from an
// endpoint's heap of thousands for every delivery it hands out.
type deliveryHeap struct {
	items []*deliveryRec
	order deliveryOrder
}

func (h *deliveryHeap) less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	switch h.order {
	case byLease:
		return earlier(a.leaseUntil, b.leaseUntil, a.seq, b.seq)
	case byUpdated:
		return earlier(a.d.UpdatedAt, b.d.UpdatedAt, a.seq, b.seq)
	case bySeq:
		return a.seq < b.seq
	}
	return lessDue(a, b)
}

func (h *deliveryHeap) swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].index = i
	h.items[j].index = j
}

// push adds d.
func (h *deliveryHeap) push(d *deliveryRec) {
	d.index = len(h.items)
	d.heap = h
	h.items = append(h.items, d)
	h.up(d.index)
}

// pop removes and returns the head; the heap must not be empty.
func (h *deliveryHeap) pop() *deliveryRec {
	n := len(h.items) - 1
	h.swap(0, n)
	h.down(0, n)
	return h.dropLast()
}

// remove removes and returns the item at index i.
func (h *deliveryHeap) remove(i int) *deliveryRec {
	n := len(h.items) - 1
	if n != i {
		h.swap(i, n)
		if !h.down(i, n) {
			h.up(i)
		}
	}
	return h.dropLast()
}

// init restores the heap order after the order or the items changed.
func (h *deliveryHeap) init() {
	n := len(h.items)
	for i := n/2 - 1; i >= 0; i-- {
		h.down(i, n)
	}
}

// dropLast removes the last item and returns it, out of any heap.
func (h *deliveryHeap) dropLast() *deliveryRec {
	n := len(h.items) - 1
	d := h.items[n]
	h.items[n] = nil
	h.items = h.items[:n]
	d.index = -1
	d.heap = nil
	return d
}

// up moves the item at i towards the root while it sorts before its
// parent.
func (h *deliveryHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			return
		}
		h.swap(i, parent)
		i = parent
	}
}

// down moves the item at start away from the root, among the first n
// items, while one of its children sorts before it (the earlier of the two
// takes its place); it reports whether the item moved.
func (h *deliveryHeap) down(start, n int) bool {
	i := start
	for {
		first := i
		if l := 2*i + 1; l < n && h.less(l, first) {
			first = l
		}
		if r := 2*i + 2; r < n && h.less(r, first) {
			first = r
		}
		if first == i {
			return i != start
		}
		h.swap(i, first)
		i = first
	}
}

// peek returns the head, or nil when the heap is empty.
func (h *deliveryHeap) peek() *deliveryRec {
	if len(h.items) == 0 {
		return nil
	}
	return h.items[0]
}

// unqueue removes d from whichever heap holds it, if any.
func unqueue(d *deliveryRec) {
	if d.heap != nil {
		d.heap.remove(d.index)
	}
}

// endpointHeap is the heap of endpoints that have unleased pending
// deliveries, ordered by the head of each one's deliveryHeap. It implements
// heap.Interface and keeps endpointRec.qindex up to date.
type endpointHeap []*endpointRec

func (h endpointHeap) Len() int { return len(h) }

func (h endpointHeap) Less(i, j int) bool {
	return lessDue(h[i].pending.items[0], h[j].pending.items[0])
}

func (h endpointHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].qindex = i
	h[j].qindex = j
}

// Push adds x (an *endpointRec); use heap.Push, not this.
func (h *endpointHeap) Push(x any) {
	e := x.(*endpointRec)
	e.qindex = len(*h)
	*h = append(*h, e)
}

// Pop removes the last item; use heap.Pop, not this.
func (h *endpointHeap) Pop() any {
	old := *h
	n := len(old) - 1
	e := old[n]
	old[n] = nil
	*h = old[:n]
	e.qindex = -1
	return e
}

// eventHeap is the heap of events that have no delivery left, ordered by
// CreatedAt and then by the order they were stored in. It implements
// heap.Interface.
type eventHeap []*eventRec

func (h eventHeap) Len() int { return len(h) }

func (h eventHeap) Less(i, j int) bool {
	return earlier(h[i].ev.CreatedAt, h[j].ev.CreatedAt, h[i].seq, h[j].seq)
}

func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }

// Push adds x (an *eventRec); use heap.Push, not this.
func (h *eventHeap) Push(x any) { *h = append(*h, x.(*eventRec)) }

// Pop removes the last item; use heap.Pop, not this.
func (h *eventHeap) Pop() any {
	old := *h
	n := len(old) - 1
	e := old[n]
	old[n] = nil
	*h = old[:n]
	return e
}

// peek returns the head, or nil when the heap is empty.
func (h eventHeap) peek() *eventRec {
	if len(h) == 0 {
		return nil
	}
	return h[0]
}

// lessDue orders two deliveries by due time, then creation sequence.
func lessDue(a, b *deliveryRec) bool {
	return earlier(a.d.NextAttemptAt, b.d.NextAttemptAt, a.seq, b.seq)
}

// earlier orders by time, then by sequence number.
func earlier(ta, tb time.Time, sa, sb uint64) bool {
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return sa < sb
}
