package recipes_test

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEShowsTheTestedGORMHelper: the README's GORM recipe shows
// sqlTxOf exactly as gorm_test.go runs it (the other snippets leave out
// error handling, so they are shorter than their tests).
func TestREADMEShowsTheTestedGORMHelper(t *testing.T) {
	src, err := os.ReadFile("gorm_test.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	start := strings.Index(s, "func sqlTxOf(")
	if start < 0 {
		t.Fatal("gorm_test.go has no sqlTxOf")
	}
	end := strings.Index(s[start:], "\n}\n")
	helper := s[start : start+end+3]
	if !strings.Contains(string(readme), helper) {
		t.Errorf("README.md does not show sqlTxOf as gorm_test.go has it:\n%s", helper)
	}
}
