package webhook

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigDefaults(t *testing.T) {
	c, err := (*Config)(nil).withDefaults()
	require.NoError(t, err)
	assert.Equal(t, DisableAfterDefault, c.DisableAfter)
	assert.Equal(t, WorkersDefault, c.Workers)
	assert.Equal(t, MaxPayloadBytesDefault, c.MaxPayloadBytes)
	assert.IsType(t, StandardSigner{}, c.Signer)
	assert.IsType(t, ExponentialRetry{}, c.Retry)
	assert.NotNil(t, c.Client)
	assert.NotNil(t, c.Logger)
}

func TestDefaultClientFollowsRequestTimeout(t *testing.T) {
	c, err := (&Config{RequestTimeout: 45 * time.Second, Lease: time.Minute}).withDefaults()
	require.NoError(t, err)
	hc := c.Client.(*http.Client)
	assert.Equal(t, 45*time.Second, hc.Timeout)
	assert.Equal(t, 45*time.Second, hc.Transport.(*http.Transport).ResponseHeaderTimeout)
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		msg  string
	}{
		{"negative workers", Config{Workers: -1}, "Workers"},
		{"lease not above timeout", Config{Lease: time.Second, RequestTimeout: 2 * time.Second}, "Lease"},
		{"negative poll", Config{PollInterval: -time.Second}, "PollInterval"},
		{"excerpt too large", Config{ResponseExcerpt: 1 << 20}, "ResponseExcerpt"},
		{"retry attempts too many", Config{Retry: ExponentialRetry{MaxAttempts: 500}}, "Retry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.withDefaults()
			require.Error(t, err)
			assert.Contains(t, err.Error(), "Config."+tt.msg)
		})
	}
}
