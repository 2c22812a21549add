package webhook

import (
	"time"

	"github.com/cenkalti/backoff/v4"
)

// RetryPolicy decides how many attempts a delivery gets and how long to
// wait between them. It is stateless: delays are computed from the attempt
// number the Store keeps, so one policy serves every goroutine and survives
// restarts.
type RetryPolicy interface {
	// Attempts is the total number of attempts, the first included (>= 1).
	Attempts() int
	// Delay is the wait before retry n (n = 1 after the first attempt
	// failed). It is called for any n >= 1, also beyond Attempts()-1 when
	// an endpoint's MaxAttempts asks for more.
	Delay(n int) time.Duration
}

// Defaults of ExponentialRetry: 1 try and 3 retries, the first after 60 s,
// doubling, at most an hour apart before jitter, with ±20 % jitter.
const (
	RetryInitialDefault     = 60 * time.Second
	RetryMultiplierDefault  = 2.0
	RetryMaxDefault         = time.Hour
	RetryMaxAttemptsDefault = 4
	retryJitter             = 0.2
	maxRetrySteps           = 100 // delays stop growing after this many retries
)

// ExponentialRetry waits Initial before the first retry and multiplies the
// wait by Multiplier after each, up to Max, each delay randomised by ±20 %
// (backed by cenkalti/backoff/v4). Zero fields take the …Default constants.
type ExponentialRetry struct {
	Initial     time.Duration // Defaults to RetryInitialDefault.
	Multiplier  float64       // 1 or more; Defaults to RetryMultiplierDefault.
	Max         time.Duration // Defaults to RetryMaxDefault.
	MaxAttempts int           // first try included; Defaults to RetryMaxAttemptsDefault.
}

// Attempts returns MaxAttempts or its default.
func (r ExponentialRetry) Attempts() int {
	if r.MaxAttempts <= 0 {
		return RetryMaxAttemptsDefault
	}
	return r.MaxAttempts
}

// Delay returns the jittered delay before retry n. A fresh
// backoff.ExponentialBackOff is stepped n times on every call: it is not
// safe to share and keeps its state in memory, while n comes from the Store.
func (r ExponentialRetry) Delay(n int) time.Duration {
	b := &backoff.ExponentialBackOff{
		InitialInterval:     r.Initial,
		RandomizationFactor: retryJitter,
		Multiplier:          r.Multiplier,
		MaxInterval:         r.Max,
		MaxElapsedTime:      0, // never stop: Attempts decides
		Stop:                backoff.Stop,
		Clock:               backoff.SystemClock,
	}
	if b.InitialInterval <= 0 {
		b.InitialInterval = RetryInitialDefault
	}
	if b.Multiplier < 1 {
		b.Multiplier = RetryMultiplierDefault
	}
	if b.MaxInterval <= 0 {
		b.MaxInterval = RetryMaxDefault
	}
	b.Reset()
	if n < 1 {
		n = 1
	}
	n = min(n, maxRetrySteps)
	var d time.Duration
	for i := 0; i < n; i++ {
		d = b.NextBackOff()
	}
	return d
}

// FixedSchedule returns a policy with len(delays)+1 attempts: the first at
// once, then one after each delay. FixedSchedule(10*time.Second,
// 100*time.Second) is Smarter Launch's "now, +10 s, +100 s". Retries beyond
// the schedule (an endpoint's MaxAttempts) wait the last delay; with no
// delays at all a single attempt is made, and retries an endpoint's
// MaxAttempts asks for wait RetryInitialDefault.
func FixedSchedule(delays ...time.Duration) RetryPolicy {
	return fixedSchedule(append([]time.Duration(nil), delays...))
}

type fixedSchedule []time.Duration

func (f fixedSchedule) Attempts() int { return len(f) + 1 }

func (f fixedSchedule) Delay(n int) time.Duration {
	switch {
	case len(f) == 0:
		return RetryInitialDefault
	case n < 1:
		return f[0]
	case n > len(f):
		return f[len(f)-1]
	}
	return f[n-1]
}
