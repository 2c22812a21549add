package interop

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
)

// Receivers that verify a signature over the body as their language writes
// it again (Smarter Launch's snippets: JSON.stringify(payload),
// json.dumps(payload), json_encode) accept a body only if re-serializing
// the parsed body gives the same bytes. These tests run the real
// interpreters.

// Scripts that read one base64 body per line and print the body
// re-serialized, base64, one per line.
const (
	nodeReserialize = `
const lines = require('fs').readFileSync(0, 'utf8').split('\n').filter(Boolean);
for (const l of lines) {
  const body = Buffer.from(l, 'base64').toString('utf8');
  console.log(Buffer.from(JSON.stringify(JSON.parse(body)), 'utf8').toString('base64'));
}
`
	pythonReserialize = `
import base64, json, sys
for line in sys.stdin:
    if line.strip():
        body = base64.b64decode(line)
        print(base64.b64encode(json.dumps(json.loads(body)).encode('utf-8')).decode())
`
	// phpReserialize decodes into arrays (json_decode($body, true), what
	// most receivers write) or, with argument "objects", into stdClass.
	phpReserialize = `<?php
$assoc = ($argv[1] ?? '') !== 'objects';
while (($line = fgets(STDIN)) !== false) {
    if (trim($line) === '') continue;
    $body = base64_decode(trim($line));
    echo base64_encode(json_encode(json_decode($body, $assoc))), "\n";
}
`
)

// reserialized runs script with the interpreter for lang on bodies and
// returns what it wrote for each.
func reserialized(t *testing.T, lang, script string, bodies [][]byte, args ...string) [][]byte {
	t.Helper()
	file := filepath.Join(t.TempDir(), "reserialize")
	if err := os.WriteFile(file, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	argv := append(interpreter(t, lang, file), args...)
	var in bytes.Buffer
	for _, b := range bodies {
		in.WriteString(base64.StdEncoding.EncodeToString(b) + "\n")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %v\n%s", argv, err, stderr.String())
	}
	lines := strings.Fields(string(out))
	if len(lines) != len(bodies) {
		t.Fatalf("%v: %d lines for %d bodies:\n%s\n%s", argv, len(lines), len(bodies), out, stderr.String())
	}
	res := make([][]byte, len(lines))
	for i, l := range lines {
		if res[i], err = base64.StdEncoding.DecodeString(l); err != nil {
			t.Fatal(err)
		}
	}
	return res
}

// item is a struct in the test data, so key order is the field order,
// not sorted.
type item struct {
	Title    string   `json:"title"`
	Votes    int      `json:"votes"`
	Score    float64  `json:"score"`
	Tags     []string `json:"tags"`
	Author   *string  `json:"author"`
	Archived bool     `json:"archived"`
}

// reserializeData is test data with what encoders differ on: non-ASCII
// (é, emoji, U+2028, U+2029), "/", <, >, &, quotes, backslashes, control
// characters, DEL, floats in and out of exponent form, integers, empty
// arrays, nesting. extra adds what only some languages keep.
func reserializeData(extra map[string]any) []any {
	text := "Café ünïcödé 🚀 a\u2028b\u2029c a/b </script> <b>&amp;</b> \"q\" 'q' \\ tab\tnl\ncr\r \x01\x1f\x7f \b\f"
	data := map[string]any{
		"item": item{Title: text, Votes: 42, Score: 0.1, Tags: []string{}, Archived: true},
		"floats": []float64{0.1, 1.5, -2.25, 3, 123456.789, 1e-7, 0.0001, 1e21, 1.7976931348623157e308,
			5e-324, 2.5e-300, 1e15, -1e20, 0.30000000000000004, 0.5,
			0.00001, 0.000015, 1e-6, 1e16, 1.5e16, 1e17, 1.2e17, 1e20, 1e22, 123456789012345680},
		"ints":  []int64{0, 1, -1, 42, 9007199254740991, -9007199254740991},
		"url":   "https://example.com/a/b?x=1&y=2",
		"empty": []any{},
		"mixed": []any{nil, true, false, "é", 1, 1.5, []any{[]any{}}},
		"keys":  map[string]any{"z": 1, "a": 2, "é": 3, "a/b": 4, "<&>": 5, "": 6},
	}
	for k, v := range extra {
		data[k] = v
	}
	return []any{
		data,
		map[string]string{"title": text},
		"just a string/é",
		nil,
		[]any{1, "two", 3.5},
	}
}

// events wraps each datum in an event with a tenant and a fixed time.
func events(data []any) []webhook.Event {
	evs := make([]webhook.Event, len(data))
	for i, d := range data {
		evs[i] = webhook.Event{ID: "evt_" + string(rune('a'+i)), Type: "post.created", TenantID: "acmé",
			CreatedAt: time.Date(2026, 11, 22, 17, 35, 8, 123456000, time.UTC), Data: d}
	}
	return evs
}

// TestReserialization: the body an envelope writes is the body the
// receiver's language writes again after parsing it.
func TestReserialization(t *testing.T) {
	// Integers beyond 2^53, and float literals encoding/json does not
	// write but a json.RawMessage in Data may hold: JavaScript rewrites
	// both.
	bigInts := map[string]any{
		"big": []any{int64(9223372036854775807), int64(-9223372036854775808), uint64(18446744073709551615)},
		"raw": json.RawMessage(`[1.0, 1e16, 1.5e16, 1E17, 1.2e17, 2.50, 1e-5, 1.5E-4, -0.0, 0.0, -0]`),
	}
	objects := map[string]any{"object": map[string]any{}, "nested_objects": []any{map[string]any{}, map[string]any{"a": map[string]any{}}}}
	both := map[string]any{}
	for _, m := range []map[string]any{bigInts, objects} {
		for k, v := range m {
			both[k] = v
		}
	}
	tests := []struct {
		name     string
		envelope func(webhook.Event) ([]byte, error)
		lang     string
		script   string
		args     []string
		// extra is data the language keeps; JavaScript rounds integers
		// beyond 2^53, PHP's json_decode($body, true) turns {} into [].
		extra map[string]any
	}{
		{"default envelope, JSON.stringify", webhook.DefaultEnvelope, "node", nodeReserialize, nil, objects},
		{"EnvelopeWith(MarshalJSON), JSON.stringify", webhook.EnvelopeWith(webhook.MarshalJSON), "node", nodeReserialize, nil, objects},
		{"Python form, json.dumps", webhook.EnvelopeWith(webhook.MarshalPythonJSON), "python", pythonReserialize, nil, both},
		{"PHP form, json_encode of arrays", webhook.EnvelopeWith(webhook.MarshalPHPJSON), "php", phpReserialize, nil, bigInts},
		{"PHP form, json_encode of objects", webhook.EnvelopeWith(webhook.MarshalPHPJSON), "php", phpReserialize, []string{"objects"}, both},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var bodies [][]byte
			for _, ev := range events(reserializeData(tt.extra)) {
				b, err := tt.envelope(ev)
				if err != nil {
					t.Fatal(err)
				}
				bodies = append(bodies, b)
			}
			for i, got := range reserialized(t, tt.lang, tt.script, bodies, tt.args...) {
				if !bytes.Equal(got, bodies[i]) {
					t.Errorf("body %d changed:\nsent %s\nback %s", i, bodies[i], got)
				}
			}
		})
	}
}

// TestReserializationCaveats pins down the documented limits, so the
// documentation is corrected if an interpreter changes: PHP's arrays turn
// {} into [], and bodies in one language's form do not survive another's.
func TestReserializationCaveats(t *testing.T) {
	ev := events([]any{map[string]any{"o": map[string]any{}, "t": "é"}})[0]
	php, err := webhook.EnvelopeWith(webhook.MarshalPHPJSON)(ev)
	if err != nil {
		t.Fatal(err)
	}
	if got := reserialized(t, "php", phpReserialize, [][]byte{php})[0]; !bytes.Contains(got, []byte(`"o":[]`)) {
		t.Errorf("json_decode($body, true) kept {}: %s", got)
	}
	def, err := webhook.DefaultEnvelope(ev)
	if err != nil {
		t.Fatal(err)
	}
	if got := reserialized(t, "python", pythonReserialize, [][]byte{def})[0]; bytes.Equal(got, def) {
		t.Errorf("json.dumps gave the default envelope back: %s", got)
	}
}

// Receivers as Smarter Launch's snippets write them: the signature is the
// hex HMAC-SHA256 of the payload re-serialized, compared to X-Signature.
// They read the harness input (headers and base64 body) on stdin and exit
// 0 if the signature verifies, 1 if not.
const (
	nodeStringifyReceiver = `
const crypto = require('crypto');
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const payload = JSON.parse(Buffer.from(input.body, 'base64').toString('utf8'));
const secret = process.env.WEBHOOK_SECRET;
const payloadJson = JSON.stringify(payload);
const signature = crypto.createHmac('sha256', secret).update(payloadJson).digest('hex');
process.exit(signature === input.headers['x-signature'] ? 0 : 1);
`
	pythonDumpsReceiver = `
import base64, hashlib, hmac, json, os, sys
inp = json.load(sys.stdin)
payload = json.loads(base64.b64decode(inp['body']))
secret = os.environ['WEBHOOK_SECRET']
payloadJson = json.dumps(payload)
signature = hmac.new(secret.encode('utf-8'), msg=payloadJson.encode('utf-8'), digestmod=hashlib.sha256).hexdigest()
sys.exit(0 if hmac.compare_digest(signature, inp['headers'].get('x-signature', '')) else 1)
`
	phpEncodeReceiver = `<?php
$in = json_decode(file_get_contents('php://stdin'), true);
$payload = json_decode(base64_decode($in['body']), true);
$payloadJson = json_encode($payload);
$signature = hash_hmac('sha256', $payloadJson, getenv('WEBHOOK_SECRET'));
exit(hash_equals($signature, $in['headers']['x-signature'] ?? '') ? 0 : 1);
`
)

// TestReserializingReceivers delivers a real event (non-ASCII, HTML
// characters) through a Dispatcher signing like Smarter Launch and feeds
// the request to receivers that verify the re-serialized payload: each
// accepts the form made for its language and rejects the default
// envelope when its language writes JSON differently.
func TestReserializingReceivers(t *testing.T) {
	signer := webhook.HMACSigner{Header: "X-Signature"}
	tests := []struct {
		name     string
		envelope func(webhook.Event) ([]byte, error)
		lang     string
		script   string
		want     bool
	}{
		{"node, default envelope", nil, "node", nodeStringifyReceiver, true},
		{"python, Python form", webhook.EnvelopeWith(webhook.MarshalPythonJSON), "python", pythonDumpsReceiver, true},
		{"python, default envelope", nil, "python", pythonDumpsReceiver, false},
		{"php, PHP form", webhook.EnvelopeWith(webhook.MarshalPHPJSON), "php", phpEncodeReceiver, true},
		{"php, default envelope", nil, "php", phpEncodeReceiver, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "receiver")
			if err := os.WriteFile(file, []byte(tt.script), 0o600); err != nil {
				t.Fatal(err)
			}
			argv := interpreter(t, tt.lang, file)
			s := setup(t, webhook.Config{Signer: signer, Envelope: tt.envelope})
			_, secret := s.endpoint(t, webhook.EndpointParams{}, "/hook")
			got := s.publish(t, event())
			env := []string{"WEBHOOK_SECRET=" + secret}
			if ok := accepts(t, argv, env, input(t, got, got.Body)); ok != tt.want {
				t.Fatalf("receiver accepted = %v, want %v; body %s", ok, tt.want, got.Body)
			}
			if tt.want {
				other, _ := webhook.GenerateSecret()
				if accepts(t, argv, []string{"WEBHOOK_SECRET=" + other}, input(t, got, got.Body)) {
					t.Fatal("accepts another secret's signature")
				}
			}
		})
	}
}
