module github.com/outhook/webhook

go 1.22

require github.com/cenkalti/backoff/v4 v4.3.0

require (
	github.com/google/uuid v1.6.0 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
)
