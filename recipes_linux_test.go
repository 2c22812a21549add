//go:build linux

package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
)

// unresponsiveAddr returns a loopback address where connecting hangs: a
// socket listening with a backlog of 0 whose one queued connection is
// never accepted, so Linux drops further SYNs.
func unresponsiveAddr(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Close(fd) })
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	require.NoError(t, syscall.Listen(fd, 0))
	sa, err := syscall.Getsockname(fd)
	require.NoError(t, err)
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	c, err := net.DialTimeout("tcp", addr, time.Second)
	require.NoError(t, err, "fill the accept queue")
	t.Cleanup(func() { c.Close() })
	return addr
}

// Config.ConnectTimeout reaches the default client: a connection that
// hangs fails after it, not after the 10 s default, and the attempt says
// how long it waited.
func TestConnectTimeout(t *testing.T) {
	addr := unresponsiveAddr(t)
	t.Run("client", func(t *testing.T) {
		c := webhook.NewClientWithOptions(webhook.ClientOptions{AllowPrivateNetworks: true, ConnectTimeout: 150 * time.Millisecond})
		start := time.Now()
		_, err := c.Get("http://" + addr)
		var ne net.Error
		require.True(t, errors.As(err, &ne) && ne.Timeout(), "%v", err)
		assert.Less(t, time.Since(start), 5*time.Second)
	})
	t.Run("dispatcher", func(t *testing.T) {
		f := setup(t, func(c *webhook.Config) { c.ConnectTimeout = 150 * time.Millisecond })
		ep, _ := f.endpoint(t, webhook.EndpointParams{URL: "http://" + addr + "/hook"})
		a, err := f.d.SendTest(context.Background(), ep.ID)
		require.NoError(t, err)
		assert.Equal(t, "timed out after 150ms connecting", a.Error)
	})
}
