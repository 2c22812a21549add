package webhook

import (
	"errors"
	"fmt"
	"math"
	"strings"
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
	// an endpoint's MaxAttempts asks for more. A negative delay counts as 0.
	Delay(n int) time.Duration
}

// RetryValidator is implemented by a RetryPolicy that can check its own
// settings. NewDispatcher calls Validate on Config.Retry when it implements
// RetryValidator and refuses the Config if it returns an error, so a
// mistyped policy fails at start-up instead of retrying at the wrong pace.
// The error should say what is wrong and how to fix it. ExponentialRetry
// and the policy FixedSchedule returns implement it.
type RetryValidator interface {
	Validate() error
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
	// maxRetryDelay caps ExponentialRetry's delays before jitter, so that
	// adding the jitter cannot overflow time.Duration (about 146 years).
	maxRetryDelay = time.Duration(math.MaxInt64 / 2)
)

// ExponentialRetry waits Initial before the first retry and multiplies the
// wait by Multiplier after each, up to Max, each delay randomised by ±20 %
// (backed by cenkalti/backoff/v4). Zero fields take the …Default constants,
// except that an Initial left at zero never exceeds a Max set below
// RetryInitialDefault: ExponentialRetry{Max: time.Second} waits about a
// second before every retry. Validate reports negative fields, a
// Multiplier below 1 and an Initial above Max; NewDispatcher calls it.
type ExponentialRetry struct {
	Initial     time.Duration // Defaults to RetryInitialDefault, at most Max.
	Multiplier  float64       // 1 or more (1: constant delays); Defaults to RetryMultiplierDefault.
	Max         time.Duration // Defaults to RetryMaxDefault.
	MaxAttempts int           // first try included; Defaults to RetryMaxAttemptsDefault.
}

// Validate reports every field that is out of range, saying how to fix it.
// Zero fields are valid: they take their defaults.
func (r ExponentialRetry) Validate() error {
	var probs []string
	bad := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if r.Initial < 0 {
		bad("ExponentialRetry.Initial is %s: use a positive duration, or 0 for %s", r.Initial, RetryInitialDefault)
	}
	if m := r.Multiplier; m < 0 || (m > 0 && m < 1) || math.IsNaN(m) || math.IsInf(m, 0) {
		bad("ExponentialRetry.Multiplier is %v: use 1 or more (1 keeps the delay constant), or 0 for %v", m, RetryMultiplierDefault)
	}
	if r.Max < 0 {
		bad("ExponentialRetry.Max is %s: use a positive duration, or 0 for %s", r.Max, RetryMaxDefault)
	}
	if r.MaxAttempts < 0 {
		bad("ExponentialRetry.MaxAttempts is %d: use 1 or more (the first try included), or 0 for %d", r.MaxAttempts, RetryMaxAttemptsDefault)
	}
	switch {
	case r.Initial > 0 && r.Max > 0 && r.Initial > r.Max:
		bad("ExponentialRetry.Initial (%s) exceeds Max (%s): raise Max or lower Initial", r.Initial, r.Max)
	case r.Initial > RetryMaxDefault && r.Max == 0:
		bad("ExponentialRetry.Initial (%s) exceeds the default Max (%s): set Max too, or lower Initial", r.Initial, RetryMaxDefault)
	}
	if len(probs) == 0 {
		return nil
	}
	return errors.New(strings.Join(probs, "; "))
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
	// Out-of-range fields (which Validate reports) fall back to defaults
	// here, so a policy used without NewDispatcher still never waits a
	// negative or absurd time.
	if b.MaxInterval <= 0 {
		b.MaxInterval = RetryMaxDefault
	}
	if b.InitialInterval <= 0 {
		b.InitialInterval = RetryInitialDefault
	}
	if !(b.Multiplier >= 1) || math.IsInf(b.Multiplier, 0) { // also NaN
		b.Multiplier = RetryMultiplierDefault
	}
	// Jitter adds up to 20 %: keep that within time.Duration's range.
	b.MaxInterval = min(b.MaxInterval, maxRetryDelay)
	b.InitialInterval = min(b.InitialInterval, b.MaxInterval) // the first retry waits at most Max
	b.Reset()
	if n < 1 {
		n = 1
	}
	n = min(n, maxRetrySteps)
	var d time.Duration
	for i := 0; i < n; i++ {
		d = b.NextBackOff()
	}
	return max(d, 0)
}

// FixedSchedule returns a policy with len(delays)+1 attempts: the first at
// once, then one after each delay. FixedSchedule(10*time.Second,
// 100*time.Second) is Smarter Launch's "now, +10 s, +100 s". Retries beyond
// the schedule (an endpoint's MaxAttempts) wait the last delay; with no
// delays at all a single attempt is made, and retries an endpoint's
// MaxAttempts asks for wait RetryInitialDefault. Every delay must be
// positive: the policy implements RetryValidator, so NewDispatcher rejects
// a zero or negative one.
func FixedSchedule(delays ...time.Duration) RetryPolicy {
	return fixedSchedule(append([]time.Duration(nil), delays...))
}

type fixedSchedule []time.Duration

func (f fixedSchedule) Attempts() int { return len(f) + 1 }

func (f fixedSchedule) Delay(n int) time.Duration {
	var d time.Duration
	switch {
	case len(f) == 0:
		d = RetryInitialDefault
	case n < 1:
		d = f[0]
	case n > len(f):
		d = f[len(f)-1]
	default:
		d = f[n-1]
	}
	return max(d, 0) // Validate rejects negative delays; never return one
}

// Validate reports every delay that is not positive.
func (f fixedSchedule) Validate() error {
	var probs []string
	for i, d := range f {
		if d <= 0 {
			probs = append(probs, fmt.Sprintf("FixedSchedule delay %d is %s: use a positive duration (the wait before retry %d)", i+1, d, i+1))
		}
	}
	if len(probs) == 0 {
		return nil
	}
	return errors.New(strings.Join(probs, "; "))
}
