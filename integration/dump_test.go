package integration

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
)

// TestDumpHasNoSecret takes a real dump of the database, pg_dump's output
// on PostgreSQL and the bytes of the database files on SQLite, and looks
// for an endpoint's secret in it: absent with an encryption key, present
// without one (which shows the dump would have caught it).
func TestDumpHasNoSecret(t *testing.T) {
	const secret = "whsec_ZHVtcC1tZS1pZi15b3UtY2FuLTAxMjM0NTY3ODk="
	key := sqlstore.EncryptionKey{ID: "k", Key: []byte("abcdefghijklmnopqrstuvwxyz012345")}
	for _, b := range backends() {
		for _, encrypted := range []bool{true, false} {
			name := b.name + "/plain"
			var opts sqlstore.Options
			if encrypted {
				name = b.name + "/encrypted"
				opts.EncryptionKeys = []sqlstore.EncryptionKey{key}
			}
			t.Run(name, func(t *testing.T) {
				var dump func() []byte
				var s *sqlstore.Store
				if b.dialect == sqlstore.Postgres {
					u := pgSchema(t)
					s = newStore(t, openPGURL(t, u), b.dialect, &opts)
					dump = func() []byte { return pgDump(t, u) }
				} else {
					db, path := openSQLite(t, sqliteDriver)
					s = newStore(t, db, b.dialect, &opts)
					dump = func() []byte {
						var all []byte
						for _, f := range []string{path, path + "-wal"} {
							bs, err := os.ReadFile(f)
							if err != nil && !os.IsNotExist(err) {
								t.Fatal(err)
							}
							all = append(all, bs...)
						}
						return all
					}
				}
				ep := &webhook.Endpoint{ID: "ep-dump", TenantID: "t", URL: "https://example.com", Method: "POST",
					ContentType: webhook.ContentTypeJSON, CreatedAt: t0, UpdatedAt: t0}
				if err := s.CreateEndpoint(context.Background(), ep, webhook.Secret{Value: secret, CreatedAt: t0}, 0); err != nil {
					t.Fatal(err)
				}
				found := bytes.Contains(dump(), []byte("ZHVtcC1tZS1pZi15b3UtY2FuLTAxMjM0NTY3ODk"))
				if found == encrypted {
					t.Fatalf("encrypted=%v but the secret is in the dump: %v", encrypted, found)
				}
			})
		}
	}
}

// pgDump returns pg_dump's output for the schema the URL's search_path
// names.
func pgDump(t *testing.T, raw string) []byte {
	t.Helper()
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump")
		if len(found) == 0 {
			t.Skip("pg_dump not installed")
		}
		sort.Strings(found)
		bin = found[len(found)-1]
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	schema := q.Get("search_path")
	q.Del("search_path")
	u.RawQuery = q.Encode()
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "--data-only", "--schema", schema, u.String())
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if bytes.Contains(stderr.Bytes(), []byte("version mismatch")) {
			t.Skipf("pg_dump does not match the server: %s", stderr.String())
		}
		t.Fatalf("pg_dump: %v: %s", err, stderr.String())
	}
	return out
}
