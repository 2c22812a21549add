//go:build race

package sig

// race is set under the race detector, which makes sync.Pool drop items
// and moves values to the heap: allocation counts do not hold there.
const race = true
