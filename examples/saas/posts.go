package main

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
)

// The application's own data: posts, and votes on them. Each change
// publishes its webhook inside the same transaction (PublishTx): the event
// exists if and only if the post does.

// post is a row of saas_posts.
type post struct {
	ID        int64
	Title     string
	Votes     int
	CreatedAt time.Time
}

// migrate creates the application's table.
func (a *app) migrate(ctx context.Context) error {
	ddl := `CREATE TABLE IF NOT EXISTS saas_posts (
		id INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL, title TEXT NOT NULL,
		votes INTEGER NOT NULL DEFAULT 0, created_at TIMESTAMP NOT NULL)`
	if a.dialect == sqlstore.Postgres {
		ddl = `CREATE TABLE IF NOT EXISTS saas_posts (
		id BIGSERIAL PRIMARY KEY, tenant TEXT NOT NULL, title TEXT NOT NULL,
		votes INTEGER NOT NULL DEFAULT 0, created_at TIMESTAMPTZ NOT NULL)`
	}
	_, err := a.db.ExecContext(ctx, ddl)
	return err
}

// q rewrites ? placeholders as $1, $2… for PostgreSQL.
func (a *app) q(query string) string {
	if a.dialect != sqlstore.Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// posts returns tenant's latest posts.
func (a *app) posts(ctx context.Context, tenant string) ([]post, error) {
	rows, err := a.db.QueryContext(ctx, a.q(`SELECT id, title, votes, created_at FROM saas_posts WHERE tenant = ? ORDER BY id DESC LIMIT 10`), tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []post
	for rows.Next() {
		var p post
		if err := rows.Scan(&p.ID, &p.Title, &p.Votes, &p.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// serveCreatePost handles POST /posts (the "Create post" button): the post
// and its "post.created" event commit together.
func (a *app) serveCreatePost(w http.ResponseWriter, r *http.Request) {
	tenant, ok := a.signedIn(w, r)
	if !ok {
		return
	}
	title := strings.TrimSpace(r.PostFormValue("title"))
	if title == "" {
		title = "A post from " + tenant
	}
	if len(title) > 200 || !utf8.ValidString(title) {
		http.Error(w, "the title must be at most 200 bytes of UTF-8", http.StatusBadRequest)
		return
	}
	err := a.inTx(r.Context(), func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(r.Context(), a.q(`INSERT INTO saas_posts (tenant, title, created_at) VALUES (?, ?, ?) RETURNING id`),
			tenant, title, time.Now().UTC()).Scan(&id)
		if err != nil {
			return err
		}
		_, err = a.d.PublishTx(r.Context(), tx, webhook.Event{
			Type: "post.created", TenantID: tenant,
			Data: map[string]any{"post_id": id, "title": title, "author": tenant},
		})
		return err
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// serveVote handles POST /posts/{id}/vote: one more vote, and "vote.cast".
func (a *app) serveVote(w http.ResponseWriter, r *http.Request) {
	tenant, ok := a.signedIn(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	err = a.inTx(r.Context(), func(tx *sql.Tx) error {
		var votes int
		// The tenant in the WHERE clause: another tenant's post is not found.
		err := tx.QueryRowContext(r.Context(), a.q(`UPDATE saas_posts SET votes = votes + 1 WHERE id = ? AND tenant = ? RETURNING votes`),
			id, tenant).Scan(&votes)
		if err != nil {
			return err
		}
		_, err = a.d.PublishTx(r.Context(), tx, webhook.Event{
			Type: "vote.cast", TenantID: tenant,
			Data: map[string]any{"post_id": id, "votes": votes},
		})
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// inTx runs f in a transaction, committed when f returns nil.
func (a *app) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// fail answers 500 without detail; the detail goes to the log.
func (a *app) fail(w http.ResponseWriter, r *http.Request, err error) {
	a.logger.Error("saas example: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	http.Error(w, "something went wrong", http.StatusInternalServerError)
}
