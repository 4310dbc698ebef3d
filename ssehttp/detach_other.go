//go:build !linux

package ssehttp

import (
	"net"

	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/ssehttp/internal/netwatch"
)

// takeOver returns the Writer the hub writes a detached stream with, the
// function that closes it once the hub releases the connection, and the
// one to call when Conn.Start has returned.
func takeOver(conn net.Conn, watch *netwatch.Watcher, gone func()) (w hub.Writer, closeFn func(string), started func()) {
	w, closeFn = watchedConn(conn, watch, gone)
	return w, closeFn, func() {}
}
