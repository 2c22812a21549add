package webhooktest

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Misbehavior is a way an endpoint breaks on a bad day. A healthy endpoint
// must not notice any of them on the others: test with them.
type Misbehavior string

// The misbehaviors a Hostile server knows.
const (
	// Hang accepts the connection, reads the request and never answers.
	Hang Misbehavior = "hang"
	// Slowloris sends a status line, then one header byte every 200 ms,
	// forever.
	Slowloris Misbehavior = "slowloris"
	// EndlessBody answers 200 and a body that never ends.
	EndlessBody Misbehavior = "endless"
	// Reset closes the connection with a TCP RST as soon as the request
	// arrives.
	Reset Misbehavior = "reset"
	// Garbage answers bytes that are not HTTP and closes.
	Garbage Misbehavior = "garbage"
	// TooManyRequests answers 429 with Retry-After: 3600.
	TooManyRequests Misbehavior = "429"
)

// Misbehaviors lists every Misbehavior.
var Misbehaviors = []Misbehavior{Hang, Slowloris, EndlessBody, Reset, Garbage, TooManyRequests}

// NewHostile starts a loopback TCP server that misbehaves as m says with
// every connection, and returns its URL ("http://127.0.0.1:port/hook").
// It stops, closing every connection it holds, when the test ends.
func NewHostile(t testing.TB, m Misbehavior) string {
	t.Helper()
	url, stop, err := StartHostile(m)
	if err != nil {
		t.Fatalf("webhooktest: NewHostile: %v", err)
	}
	t.Cleanup(stop)
	return url
}

// StartHostile is NewHostile outside a test (a benchmark program): it
// returns the URL and a function that stops the server and waits for its
// connections to close.
func StartHostile(m Misbehavior) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	done := make(chan struct{})
	var conns sync.WaitGroup
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer conns.Done()
				misbehave(c, m, done)
			}()
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			close(done)
			ln.Close()
			conns.Wait()
		})
	}
	return "http://" + ln.Addr().String() + "/hook", stop, nil
}

// misbehave serves one connection as m says until done.
func misbehave(c net.Conn, m Misbehavior, done <-chan struct{}) {
	defer c.Close()
	go func() { <-done; c.Close() }()
	buf := make([]byte, 4096)
	_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, _ = c.Read(buf) // the request, or most of it
	_ = c.SetReadDeadline(time.Time{})
	switch m {
	case Hang:
		_, _ = io.Copy(io.Discard, c) // until the client gives up
	case Slowloris:
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\n"))
		for {
			if _, err := c.Write([]byte("X")); err != nil {
				return
			}
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	case EndlessBody:
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"))
		chunk := bytes.Repeat([]byte("x"), 32<<10)
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	case Reset:
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
	case Garbage:
		_, _ = c.Write([]byte("\x00\xff garbage \r\n\r\n not http at all"))
	case TooManyRequests:
		_, _ = c.Write([]byte("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3600\r\nContent-Length: 0\r\n\r\n"))
	}
}
