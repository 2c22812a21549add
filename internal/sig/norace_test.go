//go:build !race

package sig

const race = false
