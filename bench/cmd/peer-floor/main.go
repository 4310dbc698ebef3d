//go:build linux

// Command peer-floor is the write floor of the comparison, not a library:
// the least a server can do to deliver a broadcast over HTTP/1.1. A stream
// is hijacked, answered with a chunked 200 head, and kept as a bare file
// descriptor in a slice (no goroutine, buffer or net.Conn per stream). A
// publish encodes the event once and writes it to every descriptor with
// one write(2) each, split over GOMAXPROCS goroutines, before it answers
// (so its publish latency is the fan-out's). A stream whose socket is full
// or closed is dropped, which the load tool counts as lost. It has no
// heartbeat, replay, auth, limits or anything else; see package peer for
// the endpoints.
package main

import (
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/ssehub/ssehub/bench/internal/peer"
)

const head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"

type streams struct {
	mu  sync.Mutex
	fds []int
}

func main() {
	var s streams
	stream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer conn.Close() // the duplicate keeps the socket open
		if _, err := conn.Write([]byte(head)); err != nil {
			return
		}
		fd, err := dup(conn)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.fds = append(s.fds, fd)
		s.mu.Unlock()
	})
	peer.Main("peer-floor", stream, func(id, event string, data []byte) error {
		ev := fmt.Appendf(nil, "id: %s\nevent: %s\ndata: %s\n\n", id, event, data)
		chunk := append(strconv.AppendInt(nil, int64(len(ev)), 16), "\r\n"...)
		chunk = append(append(chunk, ev...), "\r\n"...)
		s.mu.Lock()
		defer s.mu.Unlock()
		n := runtime.GOMAXPROCS(0)
		dead := make([][]int, n)
		var wg sync.WaitGroup
		for i := range n {
			part := s.fds[i*len(s.fds)/n : (i+1)*len(s.fds)/n]
			wg.Go(func() {
				for _, fd := range part {
					if m, err := unix.Write(fd, chunk); err != nil || m < len(chunk) {
						dead[i] = append(dead[i], fd)
					}
				}
			})
		}
		wg.Wait()
		for _, d := range dead {
			for _, fd := range d {
				s.drop(fd)
			}
		}
		return nil
	})
}

// drop forgets and closes fd; s.mu is held.
func (s *streams) drop(fd int) {
	for i, x := range s.fds {
		if x == fd {
			s.fds[i] = s.fds[len(s.fds)-1]
			s.fds = s.fds[:len(s.fds)-1]
			break
		}
	}
	_ = unix.Close(fd)
}

// dup returns a new descriptor for conn's socket (non-blocking, as conn's).
func dup(conn net.Conn) (int, error) {
	rc, err := conn.(syscall.Conn).SyscallConn()
	if err != nil {
		return -1, err
	}
	fd, derr := -1, error(nil)
	if err := rc.Control(func(f uintptr) { fd, derr = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return -1, err
	}
	return fd, derr
}
