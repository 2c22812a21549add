package owned

import (
	"context"
	"testing"
)

func TestGive(t *testing.T) {
	ctx := context.Background()
	body := []byte(`{"a":1}`)
	if Given(ctx, body) {
		t.Fatal("a context without the mark reads as given")
	}
	if !Given(Give(ctx, body), body) {
		t.Fatal("Give's context reads as not given")
	}
	type other struct{}
	if !Given(context.WithValue(Give(ctx, body), other{}, 1), body) {
		t.Fatal("the mark is lost under another value")
	}
	// Another slice, even with the same bytes (a Store wrapper's buffer),
	// or part of the marked one, is not given.
	if Given(Give(ctx, body), []byte(`{"a":1}`)) {
		t.Fatal("a copy of the marked body reads as given")
	}
	if Given(Give(ctx, body), body[:3]) {
		t.Fatal("a part of the marked body reads as given")
	}
	if Given(Give(ctx, nil), nil) {
		t.Fatal("an empty body reads as given")
	}
}
