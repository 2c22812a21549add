package webhook

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Lease must cover the request and the recording of its answer, so
// that the delivery cannot be claimed and sent again meanwhile.
func TestConfigLeaseCoversRequestAndRecording(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		ok      bool
		record  time.Duration // the recording bound
		message string
	}{
		{"defaults", Config{}, true, 10 * time.Second, ""},
		{"long request", Config{RequestTimeout: 45 * time.Second, Lease: time.Minute}, true, 10 * time.Second, ""},
		{"short request", Config{RequestTimeout: time.Second, Lease: 2*time.Second + time.Millisecond}, true, time.Second, ""},
		{"lease covers the request only", Config{RequestTimeout: time.Second, Lease: 2 * time.Second}, false, time.Second,
			"webhook: Config.Lease (2s) must exceed RequestTimeout (1s) plus the 1s an attempt may take to be recorded"},
		{"lease covers the request only, long", Config{RequestTimeout: 20 * time.Second, Lease: 30 * time.Second}, false, 10 * time.Second,
			"webhook: Config.Lease (30s) must exceed RequestTimeout (20s) plus the 10s an attempt may take to be recorded"},
		{"default lease, long request", Config{RequestTimeout: 115 * time.Second}, false, 10 * time.Second, "Config.Lease (2m0s)"},
		{"huge request timeout", Config{RequestTimeout: 1<<63 - 1}, false, 10 * time.Second, "Config.Lease"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.cfg.withDefaults()
			assert.Equal(t, tt.record, c.recordTimeout())
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.message)
		})
	}
}
