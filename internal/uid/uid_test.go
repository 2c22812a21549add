package uid

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestNewIsAVersion7UUID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		s := New()
		u, err := uuid.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		if u.Version() != 7 || u.Variant() != uuid.RFC4122 || u.String() != s {
			t.Fatalf("%s: version %v, variant %v, canonical %s", s, u.Version(), u.Variant(), u)
		}
		if seen[s] {
			t.Fatalf("%s twice", s)
		}
		seen[s] = true
	}
}

// IDs made in later milliseconds sort after earlier ones, and carry the
// time they were made.
func TestNewSortsByTime(t *testing.T) {
	before := time.Now().UnixMilli()
	a := New()
	time.Sleep(2 * time.Millisecond)
	b := New()
	if a >= b {
		t.Fatalf("%s made first sorts after %s", a, b)
	}
	u, err := uuid.Parse(a)
	if err != nil {
		t.Fatal(err)
	}
	sec, nsec := u.Time().UnixTime()
	if ms := sec*1000 + nsec/1e6; ms < before || ms > time.Now().UnixMilli() {
		t.Fatalf("%s carries %d ms, want within [%d, now]", a, ms, before)
	}
}

func TestNewAllocatesOnlyTheString(t *testing.T) {
	if race {
		t.Skip("allocation counts differ under the race detector")
	}
	New()
	if n := testing.AllocsPerRun(1000, func() { _ = New() }); n > 1 {
		t.Errorf("%v allocations per New, want 1", n)
	}
}

func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = New()
	}
}

func BenchmarkGoogleUUID(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = uuid.NewString()
	}
}
