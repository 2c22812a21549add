package webhook_test

import (
	"bufio"
	"context"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
)

// hostile is a TCP server on loopback that hands every connection to
// handle, a receiver that does not speak HTTP properly. It returns the
// server's address.
func hostile(t *testing.T, handle func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// readRequest consumes one request's head and body, so what the server
// does next is not muddled by unread bytes.
func readRequest(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err == nil {
		_, _ = req.Body.Read(make([]byte, 1<<20))
		req.Body.Close()
	}
}

// silent never answers, and holds the connection until the test ends.
func silent(c net.Conn) { _, _ = io.Copy(io.Discard, c) }

func answer(raw string) func(net.Conn) {
	return func(c net.Conn) {
		readRequest(c)
		_, _ = c.Write([]byte(raw))
		c.Close()
	}
}

// Whatever a hostile receiver does, the attempt's Error is one short,
// stable phrase a customer understands, the same on every run; the raw
// error stays in the log, bounded.
func TestTransportFailuresReadTheSameEveryTime(t *testing.T) {
	refused := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}
	untrusted := httptest.NewUnstartedServer(http.NotFoundHandler())
	untrusted.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	untrusted.StartTLS()
	defer untrusted.Close()
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()

	tests := []struct {
		name   string
		url    func(t *testing.T) string
		client webhook.Doer
		// timeout is Config.RequestTimeout; 0 means 10 s, generous for
		// TLS handshakes on a loaded machine under -race.
		timeout time.Duration
		want    string
	}{
		{name: "accepts and never answers", timeout: 300 * time.Millisecond, want: "timed out after 300ms waiting for the response",
			url: func(t *testing.T) string { return "http://" + hostile(t, silent) + "/hook" }},
		{name: "accepts and never completes the TLS handshake", timeout: 300 * time.Millisecond, want: "timed out after 300ms connecting",
			url: func(t *testing.T) string { return "https://" + hostile(t, silent) + "/hook" }},
		{name: "closes before responding", want: "endpoint closed the connection before responding",
			url: func(t *testing.T) string {
				return "http://" + hostile(t, func(c net.Conn) { readRequest(c); c.Close() }) + "/hook"
			}},
		{name: "resets the connection", want: "connection reset by the endpoint",
			url: func(t *testing.T) string {
				return "http://" + hostile(t, func(c net.Conn) {
					readRequest(c)
					_ = c.(*net.TCPConn).SetLinger(0) // close sends RST
					c.Close()
				}) + "/hook"
			}},
		{name: "garbage bytes", want: "malformed HTTP response",
			url: func(t *testing.T) string { return "http://" + hostile(t, answer("garbage\x00\xff\r\n\r\n")) + "/hook" }},
		{name: "60 kB status line", want: "malformed HTTP response",
			url: func(t *testing.T) string {
				return "http://" + hostile(t, answer("HTTP/1.1 "+strings.Repeat("9", 60<<10)+"\r\n\r\n")) + "/hook"
			}},
		{name: "headers beyond the limit", want: "response headers too large",
			url: func(t *testing.T) string {
				return "http://" + hostile(t, answer("HTTP/1.1 200 OK\r\nX-Big: "+strings.Repeat("a", 70<<10)+"\r\n\r\n")) + "/hook"
			}},
		{name: "refused port", want: "connection refused",
			url: func(t *testing.T) string { return "http://" + refused() + "/hook" }},
		{name: "certificate not trusted", want: "TLS certificate not trusted",
			url: func(t *testing.T) string { return untrusted.URL + "/hook" }},
		{name: "plain HTTP on an https URL", want: "TLS handshake failed: the endpoint answered plain HTTP",
			url: func(t *testing.T) string { return strings.Replace(plain.URL, "http:", "https:", 1) + "/hook" }},
		{name: "garbage on an https URL", want: "TLS handshake failed",
			url: func(t *testing.T) string {
				return "https://" + hostile(t, func(c net.Conn) {
					_, _ = c.Write([]byte("garbage\r\n\r\n"))
					_, _ = io.Copy(io.Discard, c)
				}) + "/hook"
			}},
		{name: "loopback behind the SSRF guard", want: "address not public (refused by the SSRF guard)",
			client: webhook.NewClient(false, 4),
			url:    func(t *testing.T) string { return plain.URL + "/hook" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			f := setup(t, func(c *webhook.Config) {
				c.Retry = webhook.FixedSchedule()
				c.RequestTimeout = tt.timeout
				if tt.timeout == 0 {
					c.RequestTimeout = 10 * time.Second
				}
				c.Client = tt.client
				c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			})
			ep, _ := f.endpoint(t, webhook.EndpointParams{URL: tt.url(t) + "?key=secret-in-query"})
			f.publish(t, webhook.Event{Type: "post.created"})
			eventually(t, func() bool { return len(f.hooks.results()) == 1 }, "attempt recorded")
			a := f.hooks.results()[0].Attempt
			assert.Equal(t, tt.want, a.Error)
			assert.Equal(t, 0, a.StatusCode)
			assert.Equal(t, tt.want, f.get(t, ep.ID).LastFailureReason)
			attempts, err := f.store.ListAttempts(context.Background(), a.DeliveryID)
			require.NoError(t, err)
			require.Len(t, attempts, 1)
			assert.Equal(t, tt.want, attempts[0].Error)

			eventually(t, func() bool { return strings.Contains(logs.String(), "webhook: delivery failed") }, "logged")
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				assert.Less(t, len(line), 3*webhook.MaxReasonLen, "log lines are bounded")
				assert.True(t, utf8.ValidString(line))
				assert.NotContains(t, line, "secret-in-query")
				if strings.Contains(line, "webhook: delivery failed") {
					assert.Contains(t, line, "detail=", "the raw error stays in the log")
				}
			}
		})
	}
}
