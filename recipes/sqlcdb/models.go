package sqlcdb

// Order is a row of orders.
type Order struct {
	ID    string
	Total int64
}
