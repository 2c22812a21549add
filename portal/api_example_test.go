package portal_test

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
	"github.com/outhook/webhook/portal"
)

// ExampleNew mounts the portal at /settings/webhooks of an application
// whose own authentication says which customer account a request is
// (here a header stands for it), then uses the JSON API as that customer.
func ExampleNew() {
	d, err := webhook.NewDispatcher(memstore.New(), nil)
	if err != nil {
		log.Fatal(err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		log.Fatal(err)
	}
	p, err := portal.New(d, &portal.Config{
		BasePath:   "/settings/webhooks",
		SessionKey: key,
		Tenant: func(r *http.Request) (string, error) {
			account := r.Header.Get("X-Account") // your session lookup
			if account == "" {
				return "", portal.ErrUnauthenticated
			}
			return account, nil
		},
		EventTypes: []portal.EventType{
			{Name: "post.created", Description: "A post was published.", Example: map[string]string{"id": "p_1"}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/settings/webhooks/", p)

	call := func(method, path, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("X-Account", "acme")
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w
	}
	w := call("POST", "/settings/webhooks/api/endpoints",
		`{"name":"prod","url":"https://example.com/hooks?key=abc","events":["post.created"]}`)
	var created struct{ Secret string }
	_ = json.Unmarshal(w.Body.Bytes(), &created)
	fmt.Println(w.Code, strings.HasPrefix(created.Secret, "whsec_")) // the secret, shown once

	w = call("GET", "/settings/webhooks/api/endpoints", "")
	var list struct {
		Data []struct{ Name, URL string }
	}
	_ = json.Unmarshal(w.Body.Bytes(), &list)
	fmt.Println(w.Code, list.Data[0].Name, list.Data[0].URL)

	// A portal link signs its holder in to one account for a while: for
	// an embed or an email, with no authentication code of your own.
	link, err := p.NewSessionURL("acme", 15*time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.HasPrefix(link, "/settings/webhooks/session?token="))
	// Output:
	// 201 true
	// 200 prod https://example.com/hooks?REDACTED
	// true
}
