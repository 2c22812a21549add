package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestDemo runs the demonstration: real deliveries verify (also during a
// rotation, with only the old secret), a replay is de-duplicated, and a
// forged or unsigned request is refused with nothing but the status.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	if err := demo(&out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	t.Log("\n" + got)
	for _, want := range []string{
		`verified: {"title":"Dark mode"}`,
		`verified: {"title":"Keyboard shortcuts"}`,
		"already processed, ignored",
		"attacker: changes the body -> 401 Unauthorized",
		"attacker: sends no signature -> 401 Unauthorized",
		"no matching signature",
		"missing signature header",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(got, "Free money") {
		t.Error("the forged body got through")
	}
}

func TestVerifierFlags(t *testing.T) {
	for _, tt := range []struct {
		scheme  string
		secrets []string
		ok      bool
	}{
		{"standard", []string{"whsec_x"}, true},
		{"hmac", []string{"s"}, true},
		{"stripe", []string{"s"}, true},
		{"other", []string{"s"}, false},
		{"standard", nil, false},
	} {
		if _, err := verifier(tt.scheme, "", "", tt.secrets); (err == nil) != tt.ok {
			t.Errorf("verifier(%q, %v): %v", tt.scheme, tt.secrets, err)
		}
	}
}
