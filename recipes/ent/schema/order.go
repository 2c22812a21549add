// Package schema is the ent schema of the ent recipe: one table, orders.
package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
)

// Order is an order of the shop in the recipes.
type Order struct {
	ent.Schema
}

// Fields of Order: a text ID the application chooses, and a total.
func (Order) Fields() []ent.Field {
	return []ent.Field{
		field.String("id"),
		field.Int("total"),
	}
}
