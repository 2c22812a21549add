-- The query sqlc would read (sqlc.yaml: engine postgresql, sql_package
-- pgx/v5); query.sql.go is the code it generates, written by hand here.

-- name: CreateOrder :exec
INSERT INTO orders (id, total) VALUES ($1, $2);

-- name: GetOrder :one
SELECT id, total FROM orders WHERE id = $1;
