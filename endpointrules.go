package webhook

import (
	"errors"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// reservedHeaders are set by the library and may not be overridden by an
// endpoint's Headers; neither may any webhook-* header.
var reservedHeaders = map[string]bool{
	"Content-Type": true, "Content-Length": true, "Host": true, "User-Agent": true,
	"Transfer-Encoding": true, "Connection": true,
}

// endpointRules is what validation needs from the dispatcher's Config.
type endpointRules struct {
	catalogue    catalogue
	allowPrivate bool
	httpsOnly    bool
	signerHeads  map[string]bool // canonical names the Signer sets (HeaderLister)
}

// normalize validates p and returns the endpoint configuration it
// describes, defaults filled in. It stores nothing.
func (r endpointRules) normalize(p EndpointParams) (*Endpoint, error) {
	if err := checkTenantID(p.TenantID); err != nil {
		return nil, err
	}
	if len(p.Name) > MaxNameLen || !validLabel(p.Name) {
		return nil, invalid("Name", "use at most %d bytes of UTF-8 without control characters", MaxNameLen)
	}
	if err := r.checkURL(p.URL); err != nil {
		return nil, err
	}
	if len(p.Events) > MaxEventFilters {
		return nil, invalid("Events", "at most %d entries; use a prefix such as \"post.*\"", MaxEventFilters)
	}
	if err := r.catalogue.checkPatterns(p.Events); err != nil {
		return nil, err
	}
	switch {
	case p.Unsigned && p.TenantSecret:
		return nil, invalid("Unsigned", "conflicts with TenantSecret: an endpoint is signed with its own secret (the default), with its tenant's (TenantSecret) or not at all (Unsigned)")
	case p.Unsigned && p.Secret != "":
		return nil, invalid("Secret", "must be empty for an Unsigned endpoint, which has no secret")
	case p.TenantSecret && p.Secret != "":
		return nil, invalid("Secret", "must be empty for a TenantSecret endpoint, which signs with its tenant's secrets (SetTenantSecret)")
	}
	ep := &Endpoint{
		TenantID:     p.TenantID,
		Name:         p.Name,
		URL:          p.URL,
		Events:       append([]string(nil), p.Events...),
		Method:       strings.ToUpper(p.Method),
		MaxAttempts:  p.MaxAttempts,
		TenantSecret: p.TenantSecret,
		Unsigned:     p.Unsigned,
		Inactive:     p.Inactive,
		Ordered:      p.Ordered,
	}
	switch ep.Method {
	case "":
		ep.Method = http.MethodPost
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		return nil, invalid("Method", "%q is not allowed: use POST, PUT or PATCH", p.Method)
	}
	ct, err := normalizeContentType(p.ContentType)
	if err != nil {
		return nil, err
	}
	ep.ContentType = ct
	if p.MaxAttempts < 0 || p.MaxAttempts > MaxAttemptsLimit {
		return nil, invalid("MaxAttempts", "%d is out of range: 0 (the retry policy decides) to %d", p.MaxAttempts, MaxAttemptsLimit)
	}
	h, err := r.checkHeaders(p.Headers)
	if err != nil {
		return nil, err
	}
	ep.Headers = h
	if err := p.RateLimit.check("RateLimit"); err != nil {
		return nil, err
	}
	ep.RateLimit = p.RateLimit
	return ep, nil
}

func (r endpointRules) checkURL(raw string) error {
	if raw == "" {
		return invalid("URL", "required")
	}
	if len(raw) > MaxURLLen {
		return invalid("URL", "longer than %d bytes", MaxURLLen)
	}
	if !validText(raw) {
		return invalid("URL", "must be UTF-8 without NUL bytes")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return invalid("URL", "does not parse: %v", redactError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return invalid("URL", "scheme must be http or https, not %q", u.Scheme)
	}
	if r.httpsOnly && u.Scheme != "https" {
		return invalid("URL", "must be https: deliveries are sent over TLS only (Config.HTTPSOnly)")
	}
	if u.User != nil {
		return invalid("URL", "must not carry user:password; use Headers for Authorization")
	}
	if u.Fragment != "" {
		return invalid("URL", "must not have a #fragment")
	}
	host := u.Hostname()
	if host == "" {
		return invalid("URL", "has no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return invalid("URL", "port %q is not 1 to 65535", p)
		}
	}
	if r.allowPrivate {
		return nil
	}
	if isLocalhost(host) {
		return invalid("URL", "host %q is not public (set Config.AllowPrivateNetworks for tests and intranets)", host)
	}
	if a, err := netip.ParseAddr(host); err == nil && !PublicAddr(a) {
		return invalid("URL", "address %s is not public (set Config.AllowPrivateNetworks for tests and intranets)", host)
	}
	return nil
}

// normalizeContentType validates an endpoint's content type and returns
// it in canonical form; empty is ContentTypeJSON.
func normalizeContentType(ct string) (string, error) {
	if ct == "" {
		return ContentTypeJSON, nil
	}
	unsupported := func() error {
		return invalid("ContentType", "%q is not supported: use %q or %q, with parameters if needed (%q)",
			ct, ContentTypeJSON, ContentTypeForm, ContentTypeJSON+"; charset=utf-8")
	}
	if len(ct) > MaxContentTypeLen || !validHeaderValue(ct) || !utf8.ValidString(ct) {
		return "", unsupported()
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != ContentTypeJSON && mt != ContentTypeForm {
		return "", unsupported()
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return "", invalid("ContentType", "charset %q: bodies are UTF-8; use charset=utf-8 or no charset", cs)
	}
	out := mime.FormatMediaType(mt, params)
	if out == "" || len(out) > MaxContentTypeLen {
		return "", unsupported()
	}
	return out, nil
}

// isForm reports whether an endpoint's content type is ContentTypeForm,
// with or without parameters.
func isForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == ContentTypeForm
}

// isLocalhost reports whether host is localhost or a name under it
// (RFC 6761), also written fully qualified, with trailing dots.
func isLocalhost(host string) bool {
	h := strings.ToLower(strings.TrimRight(host, "."))
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

// redactError keeps a url.Error's complaint without the URL, which may
// carry a secret in its query.
func redactError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (r endpointRules) checkHeaders(in http.Header) (http.Header, error) {
	if len(in) == 0 {
		return nil, nil
	}
	if len(in) > MaxHeaders {
		return nil, invalid("Headers", "at most %d headers", MaxHeaders)
	}
	out := make(http.Header, len(in))
	size := 0
	for name, values := range in {
		if !validHeaderName(name) {
			return nil, invalid("Headers", "%q is not a valid header name", name)
		}
		key := http.CanonicalHeaderKey(name)
		if reservedHeaders[key] || r.signerHeads[key] || strings.HasPrefix(key, "Webhook-") {
			return nil, invalid("Headers", "%s is set by the library and cannot be overridden", key)
		}
		for _, v := range values {
			if !validHeaderValue(v) {
				return nil, invalid("Headers", "value of %s contains a control character", key)
			}
			if !utf8.ValidString(v) {
				return nil, invalid("Headers", "value of %s is not valid UTF-8", key)
			}
			size += len(key) + len(v)
			out.Add(key, v)
		}
	}
	if size > maxHeaderBytes {
		return nil, invalid("Headers", "more than %d bytes in all", maxHeaderBytes)
	}
	return out, nil
}

// validHeaderValue reports whether net/http will send v: no control
// characters but tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}
