package uid

import (
	"testing"

	"github.com/google/uuid"
)

func TestNewIsAVersion4UUID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		s := New()
		u, err := uuid.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		if u.Version() != 4 || u.Variant() != uuid.RFC4122 || u.String() != s {
			t.Fatalf("%s: version %v, variant %v, canonical %s", s, u.Version(), u.Variant(), u)
		}
		if seen[s] {
			t.Fatalf("%s twice", s)
		}
		seen[s] = true
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
