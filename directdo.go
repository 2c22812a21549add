package webhook

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"reflect"
	"time"
)

// The Dispatcher's own client (NewClient, NewClientWithOptions) follows no
// redirect, keeps no cookies, and its Timeout is never shorter than the
// deadline send puts on every request: what http.Client.Do adds on top of
// its Transport's RoundTrip (a copy of the headers kept for redirects, a
// shallow copy of the request, a deadline context it then finds redundant,
// the error wrapped in a *url.Error that send unwraps again) does nothing
// for it. send therefore calls that Transport directly, and does here the
// little of Client.Do that can still change an attempt's outcome, so every
// attempt reads exactly as through Do. Any other Doer is called as it is.

// noRedirect is the CheckRedirect of NewClientWithOptions's clients, by
// which do knows them.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// noRedirectPC identifies noRedirect among func values.
var noRedirectPC = reflect.ValueOf(noRedirect).Pointer()

// directTransport returns the RoundTripper of doer if doer is a client of
// NewClientWithOptions (or one like it: no Jar, no redirects followed, a
// Timeout no shorter than budget), else nil.
func directTransport(doer Doer, budget time.Duration) http.RoundTripper {
	c, ok := doer.(*http.Client)
	if !ok || c.Transport == nil || c.Jar != nil || c.CheckRedirect == nil ||
		c.Timeout > 0 && c.Timeout < budget ||
		reflect.ValueOf(c.CheckRedirect).Pointer() != noRedirectPC {
		return nil
	}
	return c.Transport
}

// do sends req with Config.Client: through its Transport directly when
// directTransport allows, otherwise with Do. Either way, an error is the
// one send would have had from Do, less Do's *url.Error (which send's
// redactError removes).
func (d *Dispatcher) do(req *http.Request) (*http.Response, error) {
	rt := directTransport(d.cfg.Client, d.cfg.RequestTimeout)
	if rt == nil || req.URL.User != nil { // Do sets basic auth from the URL
		return d.cfg.Client.Do(req)
	}
	res, err := rt.RoundTrip(req)
	if err != nil {
		if res != nil && res.Body != nil {
			res.Body.Close() // Do ignores such a response
		}
		// As Client.Do: a TLS record that reads "HTTP/" is a plain HTTP
		// server on the other end.
		if rh, ok := err.(tls.RecordHeaderError); ok && string(rh.RecordHeader[:]) == "HTTP/" {
			err = http.ErrSchemeMismatch
		}
		return nil, err
	}
	if res == nil {
		return nil, fmt.Errorf("http: RoundTripper implementation (%T) returned a nil *Response with a nil error", rt)
	}
	if res.Body == nil {
		res.Body = http.NoBody // as Do guarantees
	}
	if err := redirectError(req, res); err != nil {
		res.Body.Close()
		return nil, err
	}
	return res, nil
}

// redirectError is the error Client.Do returns for a redirect it would
// follow (before CheckRedirect stops it) whose Location does not parse;
// nil for any other response.
func redirectError(req *http.Request, res *http.Response) error {
	switch res.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther:
	case http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		if req.GetBody == nil && req.ContentLength != 0 {
			return nil // Do would not follow it
		}
	default:
		return nil
	}
	loc := res.Header.Get("Location")
	if loc == "" {
		return nil
	}
	if _, err := req.URL.Parse(loc); err != nil {
		return fmt.Errorf("failed to parse Location header %q: %v", loc, err)
	}
	return nil
}
