package webhook

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRetryValidation(t *testing.T) {
	tests := []struct {
		name   string
		policy RetryPolicy
		msg    string // "" when valid
	}{
		{"exponential defaults", ExponentialRetry{}, ""},
		{"exponential constant", ExponentialRetry{Initial: time.Second, Multiplier: 1, Max: time.Second, MaxAttempts: 3}, ""},
		{"exponential only max", ExponentialRetry{Max: time.Second}, ""},
		{"exponential initial and max above default max", ExponentialRetry{Initial: 2 * time.Hour, Max: 3 * time.Hour}, ""},
		{"fixed", FixedSchedule(time.Millisecond, time.Hour), ""},
		{"fixed empty", FixedSchedule(), ""},
		{"negative initial", ExponentialRetry{Initial: -time.Second}, "ExponentialRetry.Initial is -1s: use a positive duration, or 0 for 1m0s"},
		{"multiplier below 1", ExponentialRetry{Multiplier: 0.5}, "ExponentialRetry.Multiplier is 0.5: use 1 or more"},
		{"negative multiplier", ExponentialRetry{Multiplier: -2}, "ExponentialRetry.Multiplier is -2"},
		{"NaN multiplier", ExponentialRetry{Multiplier: math.NaN()}, "ExponentialRetry.Multiplier is NaN"},
		{"infinite multiplier", ExponentialRetry{Multiplier: math.Inf(1)}, "ExponentialRetry.Multiplier is +Inf"},
		{"negative max", ExponentialRetry{Max: -time.Minute}, "ExponentialRetry.Max is -1m0s: use a positive duration, or 0 for 1h0m0s"},
		{"negative max attempts", ExponentialRetry{MaxAttempts: -1}, "ExponentialRetry.MaxAttempts is -1: use 1 or more"},
		{"initial above max", ExponentialRetry{Initial: time.Minute, Max: time.Second}, "ExponentialRetry.Initial (1m0s) exceeds Max (1s)"},
		{"initial above default max", ExponentialRetry{Initial: 2 * time.Hour}, "ExponentialRetry.Initial (2h0m0s) exceeds the default Max (1h0m0s): set Max too"},
		{"negative fixed delay", FixedSchedule(time.Second, -time.Second), "FixedSchedule delay 2 is -1s: use a positive duration"},
		{"zero fixed delay", FixedSchedule(0), "FixedSchedule delay 1 is 0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := (&Config{Retry: tt.policy}).withDefaults()
			verr := tt.policy.(RetryValidator).Validate()
			if tt.msg == "" {
				assert.NoError(t, err)
				assert.NoError(t, verr)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "webhook: Config.Retry: "+tt.msg)
			require.Error(t, verr)
			assert.Contains(t, verr.Error(), tt.msg)
		})
	}
}

func TestRetryValidationReportsEveryProblem(t *testing.T) {
	err := ExponentialRetry{Initial: -1, Multiplier: 0.5, Max: -1, MaxAttempts: -1}.Validate()
	require.Error(t, err)
	for _, field := range []string{"Initial", "Multiplier", "Max", "MaxAttempts"} {
		assert.Contains(t, err.Error(), "ExponentialRetry."+field+" is")
	}
}

func TestExponentialRetryInitialNeverExceedsMax(t *testing.T) {
	tests := []struct {
		name string
		p    ExponentialRetry
		max  time.Duration // before jitter
	}{
		{"only max set", ExponentialRetry{Max: time.Second}, time.Second},
		{"only max set, constant", ExponentialRetry{Max: 5 * time.Second, Multiplier: 1}, 5 * time.Second},
		{"initial above max used without validation", ExponentialRetry{Initial: time.Hour, Max: time.Second}, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for n := 1; n <= 5; n++ {
				for i := 0; i < 50; i++ {
					d := tt.p.Delay(n)
					assert.LessOrEqual(t, d, time.Duration(float64(tt.max)*(1+retryJitter)), "retry %d waits at most Max plus jitter", n)
					assert.GreaterOrEqual(t, d, time.Duration(float64(tt.max)*(1-retryJitter))-1, "retry %d", n)
				}
			}
		})
	}
}

func TestRetryDelayNeverNegative(t *testing.T) {
	tests := []struct {
		name string
		p    RetryPolicy
	}{
		{"exponential defaults", ExponentialRetry{}},
		{"exponential huge", ExponentialRetry{Initial: math.MaxInt64, Max: math.MaxInt64}},
		{"exponential huge max", ExponentialRetry{Initial: time.Hour, Multiplier: 1e6, Max: math.MaxInt64}},
		{"exponential negative fields", ExponentialRetry{Initial: -time.Second, Multiplier: -1, Max: -time.Second}},
		{"exponential NaN multiplier", ExponentialRetry{Multiplier: math.NaN()}},
		{"exponential infinite multiplier", ExponentialRetry{Multiplier: math.Inf(1), Max: math.MaxInt64}},
		{"fixed negative", FixedSchedule(-time.Second)},
		{"fixed min", FixedSchedule(time.Second, math.MinInt64)},
		{"fixed empty", FixedSchedule()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, n := range []int{-1, 0, 1, 2, 3, 10, 99, 100, 101, 1 << 30} {
				for i := 0; i < 20; i++ {
					assert.GreaterOrEqual(t, tt.p.Delay(n), time.Duration(0), "retry %d", n)
				}
			}
		})
	}
}
