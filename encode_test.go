package webhook

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The expected strings are what python3 -c 'import json;
// print(json.dumps(json.loads(X)))' and php -r 'echo
// json_encode(json_decode(X));' print; interop/reserialize_test.go runs
// the real interpreters.
func TestMarshalPythonAndPHPJSON(t *testing.T) {
	tests := []struct {
		name        string
		in          any
		python, php string
	}{
		{"separators and key order", struct {
			B int    `json:"b"`
			A string `json:"a"`
		}{1, "x"}, `{"b": 1, "a": "x"}`, `{"b":1,"a":"x"}`},
		{"nested and empty", map[string]any{"a": []any{}, "o": map[string]any{}, "n": nil, "t": true, "f": false, "l": []any{1, []any{2}}},
			`{"a": [], "f": false, "l": [1, [2]], "n": null, "o": {}, "t": true}`,
			`{"a":[],"f":false,"l":[1,[2]],"n":null,"o":{},"t":true}`},
		{"non-ASCII escaped, lower-case hex", "é🚀\u2028\u00ad\uffff", `"\u00e9\ud83d\ude80\u2028\u00ad\uffff"`, `"\u00e9\ud83d\ude80\u2028\u00ad\uffff"`},
		{"slash and HTML", `a/b <i>&'`, `"a/b <i>&'"`, `"a\/b <i>&'"`},
		{"controls", "\"\\\b\f\n\r\t\x01\x1f\x7f", `"\"\\\b\f\n\r\t\u0001\u001f\u007f"`, "\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\""},
		{"invalid UTF-8 as U+FFFD", "a\xffb", `"a\ufffdb"`, `"a\ufffdb"`},
		{"integers", []any{0, 42, -7, int64(math.MaxInt64), uint64(math.MaxUint64)},
			`[0, 42, -7, 9223372036854775807, 18446744073709551615]`,
			`[0,42,-7,9223372036854775807,1.8446744073709552e+19]`},
		{"integral floats", []float64{3, 1e15, 1e16, 1e17, 1e21, 1e300, -2},
			`[3, 1000000000000000, 10000000000000000, 100000000000000000, 1e+21, 1e+300, -2]`,
			`[3,1000000000000000,10000000000000000,100000000000000000,1.0e+21,1.0e+300,-2]`},
		{"fractions", []float64{0.1, 1.5, -2.25, 123456.789, 0.0001, 0.00001, 1.5e-7, 5e-324, 1.7976931348623157e308},
			`[0.1, 1.5, -2.25, 123456.789, 0.0001, 1e-05, 1.5e-07, 5e-324, 1.7976931348623157e+308]`,
			`[0.1,1.5,-2.25,123456.789,0.0001,1.0e-5,1.5e-7,5.0e-324,1.7976931348623157e+308]`},
		{"negative zero", math.Copysign(0, -1), `-0.0`, `0`},
		{"raw float literals", []json.RawMessage{json.RawMessage(`1.0`), json.RawMessage(`1E5`), json.RawMessage(`-0.0`), json.RawMessage(`2.50`), json.RawMessage(`1e16`)},
			`[1.0, 100000.0, -0.0, 2.5, 1e+16]`,
			`[1,100000,0,2.5,10000000000000000]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			py, err := MarshalPythonJSON(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.python, string(py), "python")
			php, err := MarshalPHPJSON(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.php, string(php), "php")
		})
	}
}

func TestMarshalPythonAndPHPJSONErrors(t *testing.T) {
	for name, marshal := range map[string]func(any) ([]byte, error){"python": MarshalPythonJSON, "php": MarshalPHPJSON} {
		t.Run(name, func(t *testing.T) {
			_, err := marshal(make(chan int))
			assert.Error(t, err, "unmarshalable")
			_, err = marshal(math.Inf(1))
			assert.Error(t, err, "infinity")
			_, err = marshal(json.RawMessage(`1e400`))
			assert.ErrorIs(t, err, errNumberRange)
		})
	}
}

func TestEnvelopeWith(t *testing.T) {
	ev := Event{ID: "evt_1", Type: "post.created", TenantID: "acme",
		CreatedAt: time.Date(2026, 11, 22, 17, 0, 0, 0, time.FixedZone("CET", 3600)),
		Data:      map[string]any{"title": "Café/ü", "score": 1.5}}
	def, err := EnvelopeWith(MarshalJSON)(ev)
	require.NoError(t, err)
	want, err := DefaultEnvelope(ev)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(def))

	py, err := EnvelopeWith(MarshalPythonJSON)(ev)
	require.NoError(t, err)
	assert.Equal(t, `{"id": "evt_1", "type": "post.created", "timestamp": "2026-11-22T16:00:00Z", "tenant_id": "acme", "data": {"score": 1.5, "title": "Caf\u00e9/\u00fc"}}`, string(py))
	php, err := EnvelopeWith(MarshalPHPJSON)(ev)
	require.NoError(t, err)
	assert.Equal(t, `{"id":"evt_1","type":"post.created","timestamp":"2026-11-22T16:00:00Z","tenant_id":"acme","data":{"score":1.5,"title":"Caf\u00e9\/\u00fc"}}`, string(php))
}

// FuzzReencode: whatever the data, the Python and PHP forms are valid JSON
// holding the same value as encoding/json's output, and writing them again
// in their own form changes nothing (the interpreters' round trip, which
// interop/reserialize_test.go runs for real).
func FuzzReencode(f *testing.F) {
	f.Add("é🚀\u2028/<>&", "k", 0.1, int64(42), true)
	f.Add("\x00\x7f\"\\", "", 1e-7, int64(math.MinInt64), false)
	f.Add("a\xffb", "0", 1e21, int64(-1), true)
	f.Fuzz(func(t *testing.T, s, key string, fl float64, i int64, b bool) {
		if math.IsNaN(fl) || math.IsInf(fl, 0) {
			return
		}
		v := map[string]any{"s": s, key: []any{fl, i, b, nil, map[string]any{}, s}, "f": fl, "neg": -fl}
		plain, err := json.Marshal(v)
		require.NoError(t, err)
		var want any
		require.NoError(t, json.Unmarshal(plain, &want))
		for name, form := range map[string]jsonForm{"python": pythonForm, "php": phpForm} {
			out, err := reencode(plain, form)
			require.NoError(t, err, name)
			require.True(t, json.Valid(out), "%s: %q", name, out)
			var got any
			require.NoError(t, json.Unmarshal(out, &got), name)
			if !reflect.DeepEqual(want, got) {
				t.Fatalf("%s: %q decodes to %#v, want %#v", name, out, got, want)
			}
			again, err := reencode(out, form)
			require.NoError(t, err, name)
			require.Equal(t, string(out), string(again), name)
		}
	})
}
