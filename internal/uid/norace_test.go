//go:build !race

package uid

const race = false
