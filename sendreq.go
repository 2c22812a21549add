package webhook

import (
	"bytes"
	"context"
	"io"
	"net/http"
)

// requestParts is what an attempt's request is made of beyond what
// http.NewRequestWithContext allocates, in one allocation where each was
// one of its own: the body's reader, the values of the headers every
// delivery carries, and the list of secrets the Signer gets.
type requestParts struct {
	// body is wrapped in io.NopCloser, not in a type with a Close: net/http
	// knows a *bytes.Reader so wrapped is in memory and writes the headers
	// and body together; any other reader gets its headers flushed apart,
	// a write system call more per attempt.
	body    bytes.Reader
	vals    [3]string // Content-Type, User-Agent, webhook-id
	secrets [2]string // room for one rotation; more are appended
}

// newRequest is http.NewRequestWithContext(ctx, method, url,
// bytes.NewReader(body)) (same request, same errors), with the body kept
// in the requestParts it returns beside the request.
func newRequest(ctx context.Context, method, url string, body []byte) (*http.Request, *requestParts, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return nil, nil, err
	}
	p := &requestParts{}
	if len(body) == 0 {
		req.Body = http.NoBody
		req.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
		return req, p, nil
	}
	p.body.Reset(body)
	req.Body = io.NopCloser(&p.body)
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(body)), nil
	}
	return req, p, nil
}
