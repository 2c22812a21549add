package owned

import (
	"context"
	"testing"
)

func TestGive(t *testing.T) {
	ctx := context.Background()
	if Given(ctx) {
		t.Fatal("a context without the mark reads as given")
	}
	if !Given(Give(ctx)) {
		t.Fatal("Give's context reads as not given")
	}
	type other struct{}
	if !Given(context.WithValue(Give(ctx), other{}, 1)) {
		t.Fatal("the mark is lost under another value")
	}
}
