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

	webhook "github.com/outhook/webhook"
)

// snippetDir holds the receiver snippets that the README's "Verifying
// webhooks" section shows.
var snippetDir = filepath.Join("..", "docs", "snippets")

// scheme is one signature scheme as the tests deliver it, with the
// environment its snippets read (WEBHOOK_HEADER, WEBHOOK_PREFIX).
type scheme struct {
	name   string
	signer webhook.Signer
	env    []string
	files  map[string]string // language -> snippet file under snippetDir
}

var schemes = []scheme{
	{
		name:   "standard",
		signer: webhook.StandardSigner{},
		files:  map[string]string{"node": "node/standard.js", "python": "python/standard.py", "php": "php/standard.php", "go": "go/standard.go"},
	},
	{
		name:   "hmac",
		signer: webhook.HMACSigner{},
		env:    []string{"WEBHOOK_HEADER=x-signature"},
		files:  map[string]string{"node": "node/hmac.js", "python": "python/hmac_sig.py", "php": "php/hmac.php", "go": "go/hmac.go"},
	},
	{
		name:   "hmac-github",
		signer: webhook.HMACSigner{Header: "X-Hub-Signature-256", Prefix: "sha256="},
		env:    []string{"WEBHOOK_HEADER=x-hub-signature-256", "WEBHOOK_PREFIX=sha256="},
		files:  map[string]string{"node": "node/hmac.js", "python": "python/hmac_sig.py", "php": "php/hmac.php", "go": "go/hmac.go"},
	},
	{
		name:   "stripe",
		signer: webhook.StripeSigner{},
		env:    []string{"WEBHOOK_HEADER=x-webhook-signature"},
		files:  map[string]string{"node": "node/stripe.js", "python": "python/stripe_form.py", "php": "php/stripe.php", "go": "go/stripe.go"},
	},
}

// interpreter returns the command that runs a snippet file, or skips the
// test when the interpreter is missing (fails under CI=true: `make test`
// installs it through scripts/ensure-interpreters.sh).
func interpreter(t *testing.T, lang, file string) []string {
	t.Helper()
	bin := map[string]string{"node": "node", "python": "python3", "php": "php", "go": "go"}[lang]
	if _, err := exec.LookPath(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (scripts/ensure-interpreters.sh installs it)", bin)
		}
		t.Skipf("%s is not installed; run scripts/ensure-interpreters.sh", bin)
	}
	if lang == "go" {
		return []string{buildGoSnippet(t, file)}
	}
	return []string{bin, file}
}

// buildGoSnippet compiles a Go snippet with the shared harness once.
func buildGoSnippet(t *testing.T, file string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "snippet")
	cmd := exec.Command("go", "build", "-o", out, file, filepath.Join(filepath.Dir(file), "harness.go"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", file, err, b)
	}
	return out
}

// input is what a snippet's harness reads on stdin: the request's headers
// (lower-case names) and raw body.
func input(t *testing.T, r recorded, body []byte) []byte {
	t.Helper()
	h := map[string]string{}
	for k, v := range r.Header {
		h[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	b, err := json.Marshal(map[string]any{"headers": h, "body": base64.StdEncoding.EncodeToString(body)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// accepts runs a snippet on a request and reports whether it verified.
func accepts(t *testing.T, argv []string, env []string, stdin []byte) bool {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil {
		return true
	}
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		return false
	}
	t.Fatalf("%v: %v\n%s", argv, err, stderr.String())
	return false
}

// TestSnippets runs every receiver snippet against a real delivery: a
// Dispatcher signs and sends an event to a loopback server, and the
// recorded request is fed to the snippet, which must accept it and reject
// it with a changed body or another secret.
func TestSnippets(t *testing.T) {
	for _, sc := range schemes {
		t.Run(sc.name, func(t *testing.T) {
			got, secret := deliver(t, sc.signer, webhook.EndpointParams{})
			other, _ := webhook.GenerateSecret()
			tampered := bytes.Replace(got.Body, []byte("Dark mode"), []byte("Dark node"), 1)
			if bytes.Equal(tampered, got.Body) {
				t.Fatal("test body not as expected")
			}
			for _, lang := range []string{"node", "python", "php", "go"} {
				t.Run(lang, func(t *testing.T) {
					argv := interpreter(t, lang, filepath.Join(snippetDir, sc.files[lang]))
					env := append([]string{"WEBHOOK_SECRET=" + secret}, sc.env...)
					if !accepts(t, argv, env, input(t, got, got.Body)) {
						t.Fatal("rejects a real delivery")
					}
					if accepts(t, argv, env, input(t, got, tampered)) {
						t.Fatal("accepts a tampered body")
					}
					if accepts(t, argv, append([]string{"WEBHOOK_SECRET=" + other}, sc.env...), input(t, got, got.Body)) {
						t.Fatal("accepts another secret's signature")
					}
				})
			}
		})
	}
}

// TestSnippetsInDocs: README.md shows every snippet exactly as
// tested (the part between the snippet:start and snippet:end markers).
func TestSnippetsInDocs(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, sc := range schemes {
		for _, file := range sc.files {
			if seen[file] {
				continue
			}
			seen[file] = true
			src, err := os.ReadFile(filepath.Join(snippetDir, file))
			if err != nil {
				t.Fatal(err)
			}
			part := snippet(t, file, string(src))
			if !strings.Contains(string(doc), part) {
				t.Errorf("README.md does not show %s as tested:\n%s", file, part)
			}
		}
	}
}

// snippet returns the lines strictly between the start and end markers.
func snippet(t *testing.T, file, src string) string {
	t.Helper()
	lines := strings.Split(src, "\n")
	start, end := -1, -1
	for i, l := range lines {
		switch strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(l), "/#")) {
		case "snippet:start":
			start = i
		case "snippet:end":
			end = i
		}
	}
	if start < 0 || end <= start {
		t.Fatalf("%s: no snippet:start/snippet:end markers", file)
	}
	return strings.TrimRight(strings.Join(lines[start+1:end], "\n"), "\n") + "\n"
}
