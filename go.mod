module github.com/outhook/webhook

go 1.22

require github.com/cenkalti/backoff/v4 v4.3.0
