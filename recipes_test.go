package webhook_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
	"github.com/outhook/webhook/webhooktest"
)

// The workspace product lets the customer pick the content type; receivers
// may want parameters. They are kept in canonical form and sent as kept;
// the form encoding follows the media type, parameters or not.
func TestContentTypeWithParameters(t *testing.T) {
	f := setup(t, func(c *webhook.Config) { c.Signer = webhook.HMACSigner{Header: "X-Signature"} })
	tests := []struct {
		given, want string
		form        bool
	}{
		{"application/json; charset=utf-8", "application/json; charset=utf-8", false},
		{"Application/JSON;Charset=UTF-8", "application/json; charset=UTF-8", false},
		{"application/x-www-form-urlencoded; charset=utf-8", "application/x-www-form-urlencoded; charset=utf-8", true},
		{"application/json; version=\"2\"", "application/json; version=2", false},
	}
	for _, tt := range tests {
		t.Run(tt.given, func(t *testing.T) {
			rc := webhooktest.NewReceiver(t)
			ep, secret := f.endpoint(t, webhook.EndpointParams{TenantID: tt.given, URL: rc.URL(), ContentType: tt.given})
			assert.Equal(t, tt.want, ep.ContentType)
			assert.Equal(t, tt.want, f.get(t, ep.ID).ContentType, "stored")
			f.publish(t, webhook.Event{Type: "post.created", TenantID: tt.given, Data: map[string]string{"q": "a&b=c"}})
			eventually(t, func() bool { return rc.Len() == 1 }, "delivered")
			r := rc.Requests()[0]
			assert.Equal(t, tt.want, r.Header.Get("Content-Type"))
			assert.Equal(t, hexHMAC(secret, r.Body), r.Header.Get("X-Signature"), "signed as sent")
			if tt.form {
				form, err := url.ParseQuery(string(r.Body))
				require.NoError(t, err)
				assert.Contains(t, form.Get("payload"), `"q":"a&b=c"`)
			} else {
				assert.True(t, json.Valid(r.Body), "%s", r.Body)
			}
		})
	}
}

func TestUserAgentAndTestEventMessage(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		f := setup(t, nil)
		rc := webhooktest.NewReceiver(t)
		ep, _ := f.endpoint(t, webhook.EndpointParams{URL: rc.URL()})
		_, err := f.d.SendTest(context.Background(), ep.ID)
		require.NoError(t, err)
		r := rc.Requests()[0]
		assert.Equal(t, "outhook/"+webhook.Version, r.Header.Get("User-Agent"))
		assert.Contains(t, string(r.Body), `"data":{"message":"This is a test delivery from outhook."}`)
	})
	t.Run("white label", func(t *testing.T) {
		f := setup(t, func(c *webhook.Config) {
			c.UserAgent = "Acme-Webhooks/2.0 (+https://acme.example/webhooks)"
			c.TestEventMessage = "Ceci est un test d’Acmé."
		})
		rc := webhooktest.NewReceiver(t)
		ep, _ := f.endpoint(t, webhook.EndpointParams{URL: rc.URL()})
		_, err := f.d.SendTest(context.Background(), ep.ID)
		require.NoError(t, err)
		f.publish(t, webhook.Event{Type: "post.created"})
		eventually(t, func() bool { return rc.Len() == 2 }, "delivered")
		for _, r := range rc.Requests() {
			assert.Equal(t, "Acme-Webhooks/2.0 (+https://acme.example/webhooks)", r.Header.Get("User-Agent"))
			assert.NotContains(t, strings.ToLower(string(r.Body)), "outhook")
		}
		assert.Contains(t, string(rc.Requests()[0].Body), `"data":{"message":"Ceci est un test d’Acmé."}`)
	})
}

func TestUserAgentAndTestEventMessageValidated(t *testing.T) {
	tests := []struct {
		name  string
		cfg   webhook.Config
		field string
	}{
		{"user agent newline", webhook.Config{UserAgent: "Acme\r\nX-Evil: 1"}, "UserAgent"},
		{"user agent NUL", webhook.Config{UserAgent: "Acme\x00"}, "UserAgent"},
		{"user agent spaces", webhook.Config{UserAgent: " Acme"}, "UserAgent"},
		{"user agent too long", webhook.Config{UserAgent: strings.Repeat("a", webhook.MaxUserAgentLen+1)}, "UserAgent"},
		{"user agent invalid UTF-8", webhook.Config{UserAgent: "Acme\xff"}, "UserAgent"},
		{"test message newline", webhook.Config{TestEventMessage: "a\nb"}, "TestEventMessage"},
		{"test message too long", webhook.Config{TestEventMessage: strings.Repeat("a", webhook.MaxTestEventMessageLen+1)}, "TestEventMessage"},
		{"negative connect timeout", webhook.Config{ConnectTimeout: -time.Second}, "ConnectTimeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := webhook.NewDispatcher(memstore.New(), &tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "Config."+tt.field)
		})
	}
}

// HTTPSOnly: http URLs are refused at creation and update, and the default
// client refuses to send an http endpoint stored before the option was set.
func TestHTTPSOnly(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	plain, err := webhook.NewDispatcher(store, &webhook.Config{AllowPrivateNetworks: true})
	require.NoError(t, err)
	strict, err := webhook.NewDispatcher(store, &webhook.Config{AllowPrivateNetworks: true, HTTPSOnly: true})
	require.NoError(t, err)

	_, _, err = strict.CreateEndpoint(ctx, webhook.EndpointParams{URL: "http://hooks.example.com/h"})
	var ve *webhook.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "URL", ve.Field)
	assert.Contains(t, ve.Reason, "https")
	ep, _, err := strict.CreateEndpoint(ctx, webhook.EndpointParams{URL: "https://hooks.example.com/h"})
	require.NoError(t, err)
	_, err = strict.UpdateEndpoint(ctx, ep.ID, webhook.EndpointParams{URL: "HTTP://hooks.example.com/h"})
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "URL", ve.Field)

	rc := webhooktest.NewReceiver(t)
	old, _, err := plain.CreateEndpoint(ctx, webhook.EndpointParams{URL: rc.URL()})
	require.NoError(t, err)
	a, err := strict.SendTest(ctx, old.ID)
	require.NoError(t, err)
	assert.False(t, a.Success)
	assert.Equal(t, "refused: not https (Config.HTTPSOnly)", a.Error)
	assert.Zero(t, rc.Len(), "nothing sent in clear")
}

// NewClientWithOptions keeps the address guard and refuses plain HTTP
// when asked (transport_test.go checks it still sends https).
func TestNewClientWithOptions(t *testing.T) {
	plainSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Error("plain HTTP sent") }))
	defer plainSrv.Close()

	guarded := webhook.NewClientWithOptions(webhook.ClientOptions{ConnectTimeout: time.Second, RequestTimeout: 5 * time.Second})
	_, err := guarded.Get(plainSrv.URL)
	assert.ErrorIs(t, err, webhook.ErrForbiddenAddress, "the guard stays on")
	assert.Equal(t, 5*time.Second, guarded.Timeout)
	assert.Equal(t, time.Second, guarded.Transport.(*http.Transport).TLSHandshakeTimeout)

	c := webhook.NewClientWithOptions(webhook.ClientOptions{AllowPrivateNetworks: true, HTTPSOnly: true})
	_, err = c.Get(plainSrv.URL)
	assert.ErrorIs(t, err, webhook.ErrNotHTTPS)
	_, ok := c.Transport.(interface{ CloseIdleConnections() })
	assert.True(t, ok, "Shutdown can close idle connections")
}

// The workspace product takes a secret of any length; MinSecretLen lets an
// application accept what its customers type, and still bounds it.
func TestMinSecretLen(t *testing.T) {
	ctx := context.Background()
	newD := func(minLen int) *webhook.Dispatcher {
		d, err := webhook.NewDispatcher(memstore.New(), &webhook.Config{
			AllowPrivateNetworks: true, Signer: webhook.HMACSigner{Header: "X-Signature"}, MinSecretLen: minLen,
		})
		require.NoError(t, err)
		return d
	}
	_, _, err := newD(0).CreateEndpoint(ctx, webhook.EndpointParams{URL: "http://127.0.0.1:9/h", Secret: "abc"})
	require.ErrorIs(t, err, webhook.ErrInvalid, "the default wants 16 bytes")
	_, secret, err := newD(1).CreateEndpoint(ctx, webhook.EndpointParams{URL: "http://127.0.0.1:9/h", Secret: "abc"})
	require.NoError(t, err)
	assert.Equal(t, "abc", secret)
	_, _, err = newD(1).CreateEndpoint(ctx, webhook.EndpointParams{URL: "http://127.0.0.1:9/h", Secret: strings.Repeat("s", 257)})
	require.ErrorIs(t, err, webhook.ErrInvalid, "at most 256 bytes")
	_, err = webhook.NewDispatcher(memstore.New(), &webhook.Config{MinSecretLen: 300})
	require.ErrorContains(t, err, "Config.MinSecretLen")
}
