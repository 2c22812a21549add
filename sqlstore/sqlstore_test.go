package sqlstore

import (
	"bytes"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	webhook "github.com/outhook/webhook"
)

// A *sql.DB that is never used: sql.Open with an unregistered driver
// fails, so these tests build the Store by hand where they need one.
func testStore(t *testing.T, dialect Dialect, opts *Options) *Store {
	t.Helper()
	s, err := New(&sql.DB{}, dialect, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name    string
		dialect Dialect
		opts    *Options
		want    string
	}{
		{name: "unknown dialect", dialect: "mysql", want: "unknown dialect"},
		{name: "bad prefix", dialect: Postgres, opts: &Options{TablePrefix: "Drop;"}, want: "TablePrefix"},
		{name: "short key", dialect: SQLite, opts: &Options{EncryptionKeys: []EncryptionKey{{ID: "a", Key: []byte("short")}}}, want: "32 random bytes"},
		{name: "key without ID", dialect: SQLite, opts: &Options{EncryptionKeys: []EncryptionKey{{Key: make([]byte, 32)}}}, want: "ID must be"},
		{name: "duplicate key ID", dialect: SQLite, opts: &Options{EncryptionKeys: []EncryptionKey{{ID: "a", Key: make([]byte, 32)}, {ID: "a", Key: make([]byte, 32)}}}, want: "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(&sql.DB{}, tt.dialect, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	if _, err := New(nil, Postgres, nil); err == nil {
		t.Fatal("nil db accepted")
	}
}

func TestQueryRewrite(t *testing.T) {
	pg := testStore(t, Postgres, &Options{TablePrefix: "app_hooks_"})
	got := pg.q(`SELECT a FROM {p}deliveries WHERE id = ? AND x IN (?, ?)`)
	if want := `SELECT a FROM app_hooks_deliveries WHERE id = $1 AND x IN ($2, $3)`; got != want {
		t.Fatalf("postgres: %s, want %s", got, want)
	}
	lite := testStore(t, SQLite, nil)
	got = lite.q(`SELECT a FROM {p}deliveries WHERE id = ?`)
	if want := `SELECT a FROM outhook_deliveries WHERE id = ?`; got != want {
		t.Fatalf("sqlite: %s, want %s", got, want)
	}
}

func TestMigrationsParse(t *testing.T) {
	for _, d := range []Dialect{Postgres, SQLite} {
		s := testStore(t, d, &Options{TablePrefix: "x_"})
		ms, err := s.migrations()
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 0 || ms[0].version != 1 || s.SchemaVersion() != ms[len(ms)-1].version {
			t.Fatalf("%s: migrations %+v", d, ms)
		}
		for _, m := range ms {
			if strings.Contains(m.sql, "{prefix}") {
				t.Fatalf("%s %s: prefix not replaced", d, m.name)
			}
			for _, stmt := range splitStatements(m.sql) {
				if strings.HasSuffix(stmt, ";") || strings.TrimSpace(stmt) == "" {
					t.Fatalf("%s %s: bad statement %q", d, m.name, stmt)
				}
			}
		}
	}
}

func TestSplitStatements(t *testing.T) {
	got := splitStatements("-- comment\nCREATE TABLE a (\n  x INT\n);\n\nCREATE INDEX b ON a (x);\n")
	if len(got) != 2 || !strings.HasPrefix(got[0], "CREATE TABLE a") || got[1] != "CREATE INDEX b ON a (x)" {
		t.Fatalf("got %q", got)
	}
}

func TestSecretEncryption(t *testing.T) {
	k1 := EncryptionKey{ID: "k1", Key: bytes.Repeat([]byte{1}, 32)}
	k2 := EncryptionKey{ID: "k2", Key: bytes.Repeat([]byte{2}, 32)}
	old, err := newKeyring([]EncryptionKey{k1})
	if err != nil {
		t.Fatal(err)
	}
	stored, keyID, err := old.seal("ep1", "whsec_c2VjcmV0")
	if err != nil {
		t.Fatal(err)
	}
	if keyID != "k1" || strings.Contains(stored, "whsec_") || strings.Contains(stored, "c2VjcmV0") {
		t.Fatalf("stored %q under %q", stored, keyID)
	}
	again, _, _ := old.seal("ep1", "whsec_c2VjcmV0")
	if again == stored {
		t.Fatal("two seals of one value are equal: nonce reused")
	}

	// After rotation: k2 encrypts, k1 still decrypts.
	rotated, _ := newKeyring([]EncryptionKey{k2, k1})
	plain, err := rotated.open("ep1", stored, keyID)
	if err != nil || plain != "whsec_c2VjcmV0" {
		t.Fatalf("open after rotation: %q, %v", plain, err)
	}
	if _, id, _ := rotated.seal("ep1", "x"); id != "k2" {
		t.Fatalf("new secrets under %q, want k2", id)
	}
	// Bound to the endpoint.
	if _, err := old.open("ep2", stored, keyID); err == nil {
		t.Fatal("ciphertext of ep1 opened for ep2")
	}
	// A dropped key is reported as such.
	only2, _ := newKeyring([]EncryptionKey{k2})
	if _, err := only2.open("ep1", stored, keyID); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("err = %v, want ErrUnknownKey", err)
	}
	// No key: stored as it is.
	none, _ := newKeyring(nil)
	if s, id, _ := none.seal("ep1", "plain"); s != "plain" || id != "" {
		t.Fatalf("no key: %q %q", s, id)
	}
}

func TestClean(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{name: "short", in: "ok", max: 10, want: "ok"},
		{name: "cut", in: "abcdef", max: 3, want: "abc"},
		{name: "cut inside a rune", in: "ab€", max: 4, want: "ab"},
		{name: "NUL removed", in: "a\x00b", max: 10, want: "ab"},
		{name: "invalid UTF-8 replaced", in: "a\xffb", max: 10, want: "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := clean(tt.in, tt.max)
			if got != tt.want || !utf8.ValidString(got) {
				t.Fatalf("clean(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

func TestCursor(t *testing.T) {
	c := encodeCursor(1234567890123, "d-1")
	at, id, err := decodeCursor(c)
	if err != nil || at != 1234567890123 || id != "d-1" {
		t.Fatalf("round trip: %d %q %v", at, id, err)
	}
	for _, bad := range []string{"!!", "bm9zbGFzaA", "eC95"} {
		if _, _, err := decodeCursor(bad); !errors.Is(err, webhook.ErrInvalid) {
			t.Fatalf("decodeCursor(%q) err = %v, want ErrInvalid", bad, err)
		}
	}
}

// TestDialectLocks pins the row-lock clauses each dialect writes.
func TestDialectLocks(t *testing.T) {
	pg, lite := dialects[Postgres], dialects[SQLite]
	for _, c := range []struct{ got, want string }{
		{pg.forUpdate(""), " FOR UPDATE"},
		{pg.forUpdate("e"), " FOR UPDATE OF e"},
		{pg.forUpdateSkipLocked(""), " FOR UPDATE SKIP LOCKED"},
		{pg.forUpdateSkipLocked("d"), " FOR UPDATE OF d SKIP LOCKED"},
		{lite.forUpdate("e"), ""},
		{lite.forUpdateSkipLocked("d"), ""},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if len(dialects) != 2 || dialects[Postgres] == nil || dialects[SQLite] == nil {
		t.Fatalf("dialects = %v", dialects)
	}
}
