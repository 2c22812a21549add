package webhook

import (
	"errors"
	"testing"
)

func TestAdaptHalvesOnSlownessAndGrowsOnSuccess(t *testing.T) {
	d := &Dispatcher{cfg: Config{MaxInFlightPerEndpoint: 8}, flows: map[string]*flow{}}
	steps := []struct {
		name string
		r    response
		want int
	}{
		{"timeout halves", response{err: errors.New("timeout")}, 4},
		{"503 halves", response{status: 503}, 2},
		{"429 halves", response{status: 429}, 1},
		{"never below one", response{status: 504}, 1},
		{"a 500 answered says nothing of capacity", response{status: 500}, 1},
		{"a sender-side problem is not the endpoint's", response{err: errors.New("signing"), local: true}, 1},
		{"success grows by one", response{status: 204}, 2},
		{"again", response{status: 200}, 3},
	}
	for _, s := range steps {
		d.adapt("ep", s.r)
		if got := d.flows["ep"].allowance; got != s.want {
			t.Fatalf("%s: allowance %d, want %d", s.name, got, s.want)
		}
	}
	for i := 0; i < 20; i++ {
		d.adapt("ep", response{status: 204})
	}
	if got := d.flows["ep"].allowance; got != 8 {
		t.Fatalf("allowance grew to %d, want the cap 8", got)
	}
}
