//go:build ignore

package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
)

// run sends the request described on stdin, {"headers": {...}, "body":
// "<base64>"}, through h and returns the exit status: 0 when h answered
// 200, 1 when it refused, 2 when the input is unreadable.
func run(h http.Handler) int {
	var in struct {
		Headers map[string]string
		Body    string
	}
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		return 2
	}
	body, err := base64.StdEncoding.DecodeString(in.Body)
	if err != nil {
		return 2
	}
	r := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(body))
	for k, v := range in.Headers {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		return 1
	}
	return 0
}
