package webhook

import (
	"context"
	"maps"
)

// Limits on event metadata (Config.EventMetadata): enough for a W3C
// traceparent, a full tracestate (32 members) and a few more entries.
const (
	MaxMetadataEntries = 32
	MaxMetadataKeyLen  = 128
	// MaxMetadataBytes bounds the sum of the lengths of every key and
	// value.
	MaxMetadataBytes = 16 << 10
)

// eventMetadata calls Config.EventMetadata with Publish's ctx and checks
// what it returns: nil when there is no hook or it returns no entries.
func (d *Dispatcher) eventMetadata(ctx context.Context) (map[string]string, error) {
	if d.cfg.EventMetadata == nil {
		return nil, nil
	}
	md := d.cfg.EventMetadata(ctx)
	if len(md) == 0 {
		return nil, nil
	}
	if err := checkMetadata(md); err != nil {
		return nil, err
	}
	return maps.Clone(md), nil
}

// checkMetadata validates event metadata: at most MaxMetadataEntries
// entries, keys of 1 to MaxMetadataKeyLen printable ASCII bytes without
// spaces, values UTF-8 without NUL, MaxMetadataBytes in all.
func checkMetadata(md map[string]string) error {
	if len(md) > MaxMetadataEntries {
		return invalid("Metadata", "Config.EventMetadata returned %d entries; at most %d are kept with an event", len(md), MaxMetadataEntries)
	}
	total := 0
	for k, v := range md {
		if !metadataKey(k) {
			return invalid("Metadata", "Config.EventMetadata returned the key %q: use 1 to %d printable ASCII characters without spaces", k, MaxMetadataKeyLen)
		}
		if !validText(v) {
			return invalid("Metadata", "Config.EventMetadata returned a value for %q that is not UTF-8 without NUL", k)
		}
		total += len(k) + len(v)
	}
	if total > MaxMetadataBytes {
		return invalid("Metadata", "Config.EventMetadata returned %d bytes; at most %d are kept with an event", total, MaxMetadataBytes)
	}
	return nil
}

func metadataKey(k string) bool {
	if k == "" || len(k) > MaxMetadataKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] > '~' {
			return false
		}
	}
	return true
}

// attemptContext is the context of an attempt's request: ctx, or what
// Config.AttemptContext derives from it for the claim.
func (d *Dispatcher) attemptContext(ctx context.Context, c *Claim) context.Context {
	if d.cfg.AttemptContext == nil {
		return ctx
	}
	if actx := d.cfg.AttemptContext(ctx, c); actx != nil {
		return actx
	}
	return ctx
}
