package webhooktest_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// fakeT is a testing.TB that records failures instead of failing, so the
// kit's failure paths can be tested, and that stands in for the
// *testing.T of a real test in the examples. Methods it does not override
// panic (the embedded TB is nil): the kit must not call them.
type fakeT struct {
	testing.TB

	mu       sync.Mutex
	errs     []string
	fatal    bool
	cleanups []func()
}

// newFakeT returns a fakeT whose cleanups run when t's test ends.
func newFakeT(t *testing.T) *fakeT {
	f := &fakeT{}
	t.Cleanup(f.finish)
	return f
}

func (f *fakeT) Helper() {}

func (f *fakeT) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

// Fatalf records the failure and ends the calling goroutine, as
// testing.T's does: call the kit through run.
func (f *fakeT) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
	f.fatal = true
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeT) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

// run calls fn on a goroutine of its own, so a Fatalf ends only that, and
// reports whether fn returned normally.
func (f *fakeT) run(fn func()) (returned bool) {
	done := make(chan bool)
	go func() {
		ok := false
		defer func() { done <- ok }()
		fn()
		ok = true
	}()
	return <-done
}

// failures returns what Errorf and Fatalf recorded, one per line.
func (f *fakeT) failures() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.errs, "\n")
}

// finish runs the cleanups, last registered first, as testing does.
func (f *fakeT) finish() {
	f.mu.Lock()
	cs := f.cleanups
	f.cleanups = nil
	f.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
}

// finishExample runs the cleanups and prints any failure, so an example's
// output shows it.
func (f *fakeT) finishExample() {
	f.finish()
	if s := f.failures(); s != "" {
		fmt.Println("FAIL:", s)
	}
}
