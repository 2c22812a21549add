package webhook

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestValidEventType(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"category.action", "post.created", true},
		{"sleekplan style", "item.create", true},
		{"three segments", "post.comment.created", true},
		{"digits and underscore", "v2.vote_cast", true},
		{"one segment", "ping", false},
		{"uppercase", "Post.created", false},
		{"empty segment", "post..created", false},
		{"trailing dot", "post.", false},
		{"leading dot", ".post", false},
		{"space", "post created", false},
		{"hyphen", "post.re-opened", false},
		{"wildcard is a pattern, not a type", "post.*", false},
		{"empty", "", false},
		{"too long", "a." + string(make([]byte, MaxEventTypeLen)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ValidEventType(tt.in))
		})
	}
}

func TestMatchEvent(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		typ      string
		want     bool
	}{
		{"no filter matches all", nil, "post.created", true},
		{"exact", []string{"post.created"}, "post.created", true},
		{"exact other", []string{"post.created"}, "post.deleted", false},
		{"prefix", []string{"post.*"}, "post.created", true},
		{"prefix deep", []string{"post.*"}, "post.comment.created", true},
		{"prefix needs the dot", []string{"post.*"}, "postal.sent", false},
		{"one of several", []string{"vote.cast", "post.*"}, "post.deleted", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, MatchEvent(tt.patterns, tt.typ))
		})
	}
}

func TestCatalogue(t *testing.T) {
	c, err := newCatalogue([]string{"post.created", "post.deleted", "vote.cast"})
	assert.NoError(t, err)
	assert.NoError(t, c.checkType("post.created"))
	assert.ErrorIs(t, c.checkType("post.updated"), ErrUnknownEventType)
	assert.ErrorIs(t, c.checkType("Bad"), ErrInvalid)
	assert.NoError(t, c.checkPatterns([]string{"post.*", "vote.cast"}))
	assert.ErrorIs(t, c.checkPatterns([]string{"item.*"}), ErrUnknownEventType)
	assert.ErrorIs(t, c.checkPatterns([]string{"post.created", "post.created"}), ErrInvalid)

	_, err = newCatalogue([]string{"NotAType"})
	assert.Error(t, err)
}

func FuzzMatchEvent(f *testing.F) {
	f.Add("post.*", "post.created")
	f.Add("post.created", "post.created")
	f.Add("a.*", "ab.c")
	f.Fuzz(func(t *testing.T, pattern, typ string) {
		if !validPattern(pattern) || !ValidEventType(typ) {
			return
		}
		got := MatchEvent([]string{pattern}, typ)
		if pattern == typ && !got {
			t.Fatalf("%q does not match itself", typ)
		}
		if got && pattern != typ {
			prefix := pattern[:len(pattern)-1] // "post."
			if len(typ) <= len(prefix) || typ[:len(prefix)] != prefix {
				t.Fatalf("%q matched %q outside its prefix", pattern, typ)
			}
		}
	})
}
