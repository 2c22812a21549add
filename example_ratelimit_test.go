package webhook_test

import (
	"fmt"
	"time"

	webhook "github.com/outhook/webhook"
)

// A Store of your own that shares rate limits across instances
// (SharedRateStore) keeps one time per endpoint, the bucket's state, and
// asks TakeRateToken for each delivery it would hand out. Here: 10
// attempts a second with bursts of 2, and a claim that may reserve a token
// up to a second ahead (ClaimParams.RateAhead).
func ExampleTakeRateToken() {
	limit := webhook.RateLimit{PerSecond: 10, Burst: 2}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var state time.Time // the zero time: a full bucket
	for i := 1; i <= 4; i++ {
		due, after, ok := webhook.TakeRateToken(limit, state, now, time.Second)
		if !ok {
			fmt.Printf("delivery %d: no token within the horizon; it stays pending\n", i)
			continue
		}
		state = after                                                 // stored with the lease, in the same transaction
		fmt.Printf("delivery %d: token due in %v\n", i, due.Sub(now)) // later than now: Claim.NotBefore
	}
	// Output:
	// delivery 1: token due in 0s
	// delivery 2: token due in 0s
	// delivery 3: token due in 100ms
	// delivery 4: no token within the horizon; it stays pending
}
