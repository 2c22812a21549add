// Package uid makes the random IDs outhook assigns (events, deliveries,
// leases): version 4 UUIDs in canonical form, the same strings
// github.com/google/uuid's NewString returns, at one allocation each (the
// string) instead of two.
package uid

import "crypto/rand"

const hexDigits = "0123456789abcdef"

// New returns a random (version 4, variant RFC 9562) UUID as 36 lowercase
// characters, e.g. "7c9e6679-7425-40de-944b-e07fc1f90ae7". It panics if
// crypto/rand fails, as uuid.NewString does.
func New() string {
	var u [16]byte // stays on the stack: crypto/rand.Read does not keep it
	if _, err := rand.Read(u[:]); err != nil {
		panic("uid: crypto/rand: " + err.Error())
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80

	var s [36]byte
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s[j] = '-'
			j++
		}
		s[j], s[j+1] = hexDigits[c>>4], hexDigits[c&0xf]
		j += 2
	}
	return string(s[:])
}
