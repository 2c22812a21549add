package memstore

import (
	"context"

	webhook "github.com/outhook/webhook"
)

// CompleteBatch implements webhook.BatchCompleter: it applies cs in order,
// each as Complete would, under one hold of the store's lock, so the batch
// is one atomic step. LastSuccessAt is always exact here (no
// SuccessGranularity lag). A malformed completion gets its validation
// error in its result and does not spoil the others.
func (s *Store) CompleteBatch(ctx context.Context, cs []webhook.Completion) ([]webhook.CompletionResult, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := make([]webhook.CompletionResult, len(cs))
	for i, c := range cs {
		if err := checkCompletion(c); err != nil {
			out[i].Err = err
			continue
		}
		out[i].Endpoint, out[i].Disabled, out[i].Err = s.complete(c)
	}
	return out, nil
}

var _ webhook.BatchCompleter = (*Store)(nil)
