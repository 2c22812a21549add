package webhook

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestFixedSchedule(t *testing.T) {
	p := FixedSchedule(10*time.Second, 100*time.Second)
	assert.Equal(t, 3, p.Attempts(), "now, +10 s, +100 s")
	assert.Equal(t, 10*time.Second, p.Delay(1))
	assert.Equal(t, 100*time.Second, p.Delay(2))
	assert.Equal(t, 100*time.Second, p.Delay(7), "beyond the schedule the last delay repeats")
	assert.Equal(t, 1, FixedSchedule().Attempts())
}

func TestExponentialRetryDefaults(t *testing.T) {
	p := ExponentialRetry{}
	assert.Equal(t, 4, p.Attempts(), "1 try + 3 retries")
	for n, base := range map[int]time.Duration{1: 60 * time.Second, 2: 120 * time.Second, 3: 240 * time.Second} {
		for i := 0; i < 200; i++ {
			d := p.Delay(n)
			assert.GreaterOrEqual(t, d, time.Duration(float64(base)*0.8), "retry %d", n)
			assert.LessOrEqual(t, d, time.Duration(float64(base)*1.2), "retry %d", n)
		}
	}
}

func TestExponentialRetryJitterAndMax(t *testing.T) {
	p := ExponentialRetry{Initial: time.Second, Multiplier: 3, Max: 10 * time.Second, MaxAttempts: 10}
	seen := map[time.Duration]bool{}
	for i := 0; i < 50; i++ {
		seen[p.Delay(1)] = true
	}
	assert.Greater(t, len(seen), 1, "delays are jittered")
	for i := 0; i < 100; i++ {
		assert.LessOrEqual(t, p.Delay(9), 12*time.Second, "capped at Max plus jitter")
	}
	assert.LessOrEqual(t, p.Delay(1_000_000), 12*time.Second, "huge n stays bounded and fast")
}
