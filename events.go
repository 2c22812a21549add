package webhook

import (
	"fmt"
	"strings"
)

// MaxEventTypeLen is the longest event type name accepted.
const MaxEventTypeLen = 128

// TestEventType is the type of the event SendTest sends. It needs no place
// in a type catalogue and passes every endpoint's filter.
const TestEventType = "webhook.test"

// ValidEventType reports whether name is a well-formed event type:
// dot-separated segments ("category.action", at least two) of lowercase
// letters, digits and underscores, at most MaxEventTypeLen bytes.
func ValidEventType(name string) bool {
	if len(name) == 0 || len(name) > MaxEventTypeLen {
		return false
	}
	// strings.Split would allocate on every Publish.
	for n, rest := 1, name; ; n++ {
		seg, after, more := strings.Cut(rest, ".")
		if !validSegment(seg) {
			return false
		}
		if !more {
			return n >= 2
		}
		rest = after
	}
}

func validSegment(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// validPattern reports whether p is an event type or a prefix pattern:
// one or more segments followed by ".*" ("post.*", "post.comment.*").
func validPattern(p string) bool {
	if prefix, ok := strings.CutSuffix(p, ".*"); ok {
		if prefix == "" || len(p) > MaxEventTypeLen {
			return false
		}
		for _, s := range strings.Split(prefix, ".") {
			if !validSegment(s) {
				return false
			}
		}
		return true
	}
	return ValidEventType(p)
}

// MatchEvent reports whether an endpoint subscribed to patterns receives
// events of type eventType. An empty list matches everything; a pattern is an
// exact type name or a prefix ending in ".*", which matches every type that
// starts with the prefix and a dot ("post.*" matches "post.created" and
// "post.comment.created", not "postal.sent").
func MatchEvent(patterns []string, eventType string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(eventType, prefix) {
				return true
			}
		} else if p == eventType {
			return true
		}
	}
	return false
}

// catalogue is the optional set of known event types (Config.EventTypes).
type catalogue map[string]struct{}

func newCatalogue(types []string) (catalogue, error) {
	if len(types) == 0 {
		return nil, nil
	}
	c := make(catalogue, len(types))
	for _, t := range types {
		if !ValidEventType(t) {
			return nil, fmt.Errorf("webhook: Config.EventTypes: %q is not a valid event type (lowercase dot-separated segments such as \"post.created\")", t)
		}
		c[t] = struct{}{}
	}
	return c, nil
}

// checkType says whether an event type may be published.
func (c catalogue) checkType(t string) error {
	if !ValidEventType(t) {
		return &ValidationError{Field: "Type", Reason: fmt.Sprintf("%q is not a valid event type: use lowercase dot-separated segments of letters, digits and _, such as \"post.created\"", t)}
	}
	if c == nil {
		return nil
	}
	if _, ok := c[t]; !ok {
		return fmt.Errorf("%w: %q is not in Config.EventTypes", ErrUnknownEventType, t)
	}
	return nil
}

// checkPatterns validates an endpoint's filter: well-formed, no duplicates,
// and, with a catalogue, every pattern matching at least one known type.
func (c catalogue) checkPatterns(patterns []string) error {
	seen := make(map[string]bool, len(patterns))
	for _, p := range patterns {
		if !validPattern(p) {
			return &ValidationError{Field: "Events", Reason: fmt.Sprintf("%q is neither an event type such as \"post.created\" nor a prefix such as \"post.*\"", p)}
		}
		if seen[p] {
			return &ValidationError{Field: "Events", Reason: fmt.Sprintf("%q is listed twice", p)}
		}
		seen[p] = true
		if c != nil && !c.matchesAny(p) {
			return fmt.Errorf("%w: Events: %q matches nothing in Config.EventTypes", ErrUnknownEventType, p)
		}
	}
	return nil
}

func (c catalogue) matchesAny(p string) bool {
	for t := range c {
		if MatchEvent([]string{p}, t) {
			return true
		}
	}
	return false
}
