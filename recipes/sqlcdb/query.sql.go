// source: query.sql

package sqlcdb

import (
	"context"
)

const createOrder = `-- name: CreateOrder :exec
INSERT INTO orders (id, total) VALUES ($1, $2)
`

// CreateOrderParams are CreateOrder's parameters.
type CreateOrderParams struct {
	ID    string
	Total int64
}

// CreateOrder inserts an order.
func (q *Queries) CreateOrder(ctx context.Context, arg CreateOrderParams) error {
	_, err := q.db.Exec(ctx, createOrder, arg.ID, arg.Total)
	return err
}

const getOrder = `-- name: GetOrder :one
SELECT id, total FROM orders WHERE id = $1
`

// GetOrder reads an order.
func (q *Queries) GetOrder(ctx context.Context, id string) (Order, error) {
	row := q.db.QueryRow(ctx, getOrder, id)
	var i Order
	err := row.Scan(&i.ID, &i.Total)
	return i, err
}
