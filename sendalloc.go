package webhook

import (
	"io"
	"net/http"
	"sync"
)

// Helpers that keep send's allocations per attempt down to what net/http
// itself needs.

// setRequestHeaders sets the headers every delivery carries, after the
// endpoint's own (which it overrides): as h.Set would, with the three value
// slices in vs (an attempt's requestParts) rather than one allocation each.
func setRequestHeaders(h http.Header, vs *[3]string, contentType, userAgent, eventID string) {
	vs[0], vs[1], vs[2] = contentType, userAgent, eventID
	h["Content-Type"] = vs[0:1:1]
	h["User-Agent"] = vs[1:2:2]
	h[headerWebhookID] = vs[2:3:3]
}

// excerptBufs holds the buffers readResponse reads excerpts into.
var excerptBufs = sync.Pool{New: func() any {
	b := make([]byte, ResponseExcerptDefault)
	return &b
}}

// readResponse reads at most ResponseReadLimitDefault bytes of a response
// body, so the connection can be reused, and returns the excerpt of its
// first keep bytes (see excerpt). The excerpt is read into a pooled buffer
// and the rest discarded, where io.ReadAll grew a buffer of up to the whole
// limit for each response.
func readResponse(r io.Reader, keep int) string {
	keep = min(keep, ResponseReadLimitDefault)
	bp := excerptBufs.Get().(*[]byte)
	if cap(*bp) < keep {
		*bp = make([]byte, keep)
	}
	buf := (*bp)[:keep]
	n, err := io.ReadFull(r, buf)
	out := ""
	if n > 0 {
		out = excerpt(buf[:n], keep)
	}
	excerptBufs.Put(bp)
	if err == nil && keep < ResponseReadLimitDefault {
		// The body may go on: read the rest of the limit, and no more.
		_, _ = io.CopyN(io.Discard, r, int64(ResponseReadLimitDefault-keep))
	}
	return out
}
