// Package netwatch tells when the peer of a connection goes away, without
// a goroutine per connection: on Linux one epoll instance watches every
// registered socket for a hang-up or incoming bytes (an SSE client sends
// nothing after its request, so either means the stream is over). Other
// systems fall back to one reading goroutine per connection.
//
// A Watcher's goroutine runs only while it watches something: it starts
// with the first Watch and ends when the last watch is stopped.
package netwatch

import (
	"errors"
	"net"
	"syscall"
)

// ErrUnsupported means the connection has no file descriptor to watch.
var ErrUnsupported = errors.New("netwatch: connection cannot be watched")

// rawConn returns the syscall.RawConn under c.
func rawConn(c net.Conn) (syscall.RawConn, error) {
	for {
		switch x := c.(type) {
		case syscall.Conn:
			return x.SyscallConn()
		case interface{ NetConn() net.Conn }:
			c = x.NetConn()
		default:
			return nil, ErrUnsupported
		}
	}
}
