module github.com/outhook/webhook/examples

go 1.22

require github.com/outhook/webhook v0.0.0

replace github.com/outhook/webhook => ../
