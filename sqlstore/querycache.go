package sqlstore

import (
	"strings"
	"sync"
	"sync/atomic"
)

// queryCacheMax bounds the texts a Store caches: a few of the package's
// queries vary with their arguments (IN lists of claimed IDs, excluded
// endpoints, fan-out rows), and past the bound new texts are rewritten
// each call rather than kept.
const queryCacheMax = 2048

// queryCache maps a query as written in this package to its rewriting
// for a Store's prefix and dialect (see q), for at most queryCacheMax
// texts. Statements whose text varies a lot with their arguments (the
// batch INSERTs of EnqueueMany) use rewrite directly.
type queryCache struct {
	m sync.Map
	n atomic.Int64
}

// q rewrites a query written with {p} for the table prefix and ? for
// parameters into the dialect's form ($1, $2, ... on PostgreSQL), once per
// query text: the same string every call, without allocating. The queries
// in this package contain no literal '?'.
func (s *Store) q(query string) string {
	if v, ok := s.queries.m.Load(query); ok {
		return v.(string)
	}
	out := s.rewrite(query)
	if s.queries.n.Load() < queryCacheMax {
		if _, loaded := s.queries.m.LoadOrStore(query, out); !loaded {
			s.queries.n.Add(1)
		}
	}
	return out
}

// rewrite is q without the cache.
func (s *Store) rewrite(query string) string {
	return s.dia.bind(strings.ReplaceAll(query, "{p}", s.prefix))
}
