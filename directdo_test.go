package webhook

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestDirectSendReadsAsDo: an attempt through the default client's
// Transport (directdo.go) ends exactly as one through http.Client.Do.
func TestDirectSendReadsAsDo(t *testing.T) {
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		switch r.URL.Path {
		case "/bad-location":
			w.Header().Set("Location", "http://[::1")
			w.WriteHeader(http.StatusFound)
		case "/bad-location-307":
			w.Header().Set("Location", "%zz")
			w.WriteHeader(http.StatusTemporaryRedirect)
		case "/moved":
			w.Header().Set("Location", "/elsewhere")
			w.WriteHeader(http.StatusMovedPermanently)
		case "/no-location":
			w.WriteHeader(http.StatusSeeOther)
		default:
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("busy"))
		}
	}))
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/hook"
	ln.Close()

	dispatcher := func(c *http.Client) *Dispatcher {
		return &Dispatcher{cfg: Config{Client: c, RequestTimeout: 5 * time.Second, Clock: time.Now, ResponseExcerpt: 100}}
	}
	direct := NewClient(true, 4)
	if directTransport(direct, 5*time.Second) == nil {
		t.Fatal("the default client is not sent to directly")
	}
	viaDo := NewClient(true, 4)
	viaDo.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if directTransport(viaDo, 5*time.Second) != nil {
		t.Fatal("a client with a CheckRedirect of its own is sent to directly")
	}
	short := NewClient(true, 4)
	short.Timeout = time.Second
	if directTransport(short, 5*time.Second) != nil {
		t.Fatal("a client with a shorter Timeout is sent to directly")
	}

	userinfo := "http://user:pass@" + srv.Listener.Addr().String() + "/hook"
	for _, url := range []string{srv.URL + "/hook", srv.URL + "/bad-location", srv.URL + "/bad-location-307",
		srv.URL + "/moved", srv.URL + "/no-location", refused, "https://" + srv.Listener.Addr().String() + "/hook", userinfo} {
		ep := &Endpoint{Method: http.MethodPost, URL: url, ContentType: ContentTypeJSON, Unsigned: true}
		auth = ""
		want := dispatcher(viaDo).send(context.Background(), ep, nil, "ev", []byte(`{}`))
		wantAuth := auth
		auth = ""
		got := dispatcher(direct).send(context.Background(), ep, nil, "ev", []byte(`{}`))
		if got.status != want.status || got.excerpt != want.excerpt || got.retryAfter != want.retryAfter ||
			got.failure != want.failure || got.detail() != want.detail() || got.local != want.local || auth != wantAuth {
			t.Errorf("%s:\n direct %+v (auth %q)\n Do     %+v (auth %q)", url, got, auth, want, wantAuth)
		}
	}
}
