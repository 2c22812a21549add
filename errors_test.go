package webhook

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDuplicateEventErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  *DuplicateEventError
		want string
	}{
		{"with the stored event", &DuplicateEventError{Existing: &StoredEvent{ID: "evt_1"}}, "webhook: duplicate event id: evt_1"},
		{"without it", &DuplicateEventError{}, "webhook: duplicate event id"},
		{"nil", nil, "webhook: duplicate event id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			assert.NotPanics(t, func() { got = tt.err.Error() })
			assert.Equal(t, tt.want, got)
			assert.True(t, errors.Is(tt.err, ErrDuplicateEvent))
		})
	}
}
