module github.com/outhook/webhook/interop

go 1.24.0

require (
	github.com/google/go-github/v75 v75.0.0
	github.com/outhook/webhook v0.0.0
	github.com/standard-webhooks/standard-webhooks/libraries v0.0.1
	github.com/stripe/stripe-go/v85 v85.0.0
	github.com/svix/svix-webhooks v1.44.0
)

require (
	github.com/cenkalti/backoff/v4 v4.3.0 // indirect
	github.com/google/go-querystring v1.1.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	gopkg.in/validator.v2 v2.0.1 // indirect
)

replace github.com/outhook/webhook => ../
