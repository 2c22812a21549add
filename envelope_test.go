package webhook

import (
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultEnvelope(t *testing.T) {
	at := time.Date(2026, 11, 22, 17, 35, 8, 123456000, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		ev   Event
		want string
	}{
		{
			name: "key order, UTC, tenant",
			ev:   Event{ID: "evt_1", Type: "post.created", TenantID: "acme", CreatedAt: at, Data: map[string]any{"title": "Hi"}},
			want: `{"id":"evt_1","type":"post.created","timestamp":"2026-11-22T16:35:08.123456Z","tenant_id":"acme","data":{"title":"Hi"}}`,
		},
		{
			name: "tenant omitted when empty, HTML not escaped",
			ev:   Event{ID: "evt_2", Type: "post.created", CreatedAt: at.Truncate(time.Second), Data: map[string]string{"html": "<b>a & b</b>"}},
			want: `{"id":"evt_2","type":"post.created","timestamp":"2026-11-22T16:35:08Z","data":{"html":"<b>a & b</b>"}}`,
		},
		{
			name: "nil data",
			ev:   Event{ID: "evt_3", Type: "a.b", CreatedAt: at.Truncate(time.Second)},
			want: `{"id":"evt_3","type":"a.b","timestamp":"2026-11-22T16:35:08Z","data":null}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DefaultEnvelope(tt.ev)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
}

func TestMarshalJSONLikeJSONStringify(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"line and paragraph separators raw", "a\u2028b\u2029c", "\"a\u2028b\u2029c\""},
		{"escaped backslash before u2028 kept", `x\u2028`, `"x\\u2028"`},
		{"other escapes kept", "tab\tquote\"nl\n", `"tab\tquote\"nl\n"`},
		{"html raw", "<a>&", `"<a>&"`},
		{"no trailing newline", 1, `1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MarshalJSON(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
}

func FuzzMarshalJSONRoundTrip(f *testing.F) {
	f.Add("a\u2028b")
	f.Add(`\u2029\\u2028`)
	f.Fuzz(func(t *testing.T, s string) {
		b, err := MarshalJSON(map[string]string{"s": s})
		require.NoError(t, err)
		var back map[string]string
		require.NoError(t, json.Unmarshal(b, &back), "%q", b)
		if utf8.ValidString(s) {
			require.Equal(t, s, back["s"])
		}
	})
}

func TestDefaultEnvelopeRejectsUnmarshalable(t *testing.T) {
	_, err := DefaultEnvelope(Event{ID: "x", Type: "a.b", Data: make(chan int)})
	assert.Error(t, err)
}
