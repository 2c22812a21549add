//go:build !linux

package webhook_test

import "time"

// cpuTime is 0 where getrusage is not available: the benchmark's CPU
// figure reads 0 there.
func cpuTime() time.Duration { return 0 }

// minorFaults is 0 where getrusage is not available.
func minorFaults() int64 { return 0 }
