package ssehttp

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/ssehttp/internal/netwatch"
)

// takeOver returns the Writer the hub writes a detached stream with, the
// function that closes it once the hub releases the connection, and the
// one to call when Conn.Start has returned.
//
// On Linux the stream leaves the net package once the hub's writers take
// it: the first bytes and the replay are written through conn, with its
// write deadline, by the goroutine that calls Conn.Start; once Start
// returns, conn is closed and the writers write a duplicate of its
// descriptor directly, without waiting (hub.TryWriter). An idle stream then holds no net.Conn,
// no poller registration and no deadline timer, and a delivery costs one
// write(2) and little else. The watcher watches the duplicate.
func takeOver(conn net.Conn, watch *netwatch.Watcher, gone func()) (w hub.Writer, closeFn func(string), started func()) {
	fd, err := dupFD(conn)
	if err != nil {
		w, closeFn = watchedConn(conn, watch, gone)
		return w, closeFn, func() {}
	}
	stop, err := watch.WatchFD(fd, gone)
	if err != nil {
		_ = unix.Close(fd)
		w, closeFn = watchedConn(conn, watch, gone)
		return w, closeFn, func() {}
	}
	f := &fdStream{conn: conn, fd: fd, unwatch: stop}
	return f, f.close, f.release
}

// dupFD returns a new descriptor for conn's socket, close-on-exec. It
// shares the socket and its non-blocking mode with conn's own.
func dupFD(conn net.Conn) (int, error) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return -1, errors.ErrUnsupported
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd, derr := -1, error(nil)
	if err := rc.Control(func(f uintptr) { fd, derr = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return -1, err
	}
	return fd, derr
}

// fdStream is a detached stream's transport: conn until the hub's writers
// take over, then the socket's descriptor. Its methods are called by one
// goroutine at a time (hub.Writer).
type fdStream struct {
	mu      sync.Mutex
	conn    net.Conn // nil once Start returned; guarded by mu after that
	fd      int
	unwatch func()
}

var errTakenOver = errors.New("ssehttp: stream written after the hand-over")

func (f *fdStream) Write(p []byte) (int, error) {
	if f.conn == nil {
		return 0, errTakenOver
	}
	return f.conn.Write(p)
}

func (f *fdStream) SetWriteDeadline(t time.Time) error {
	if f.conn == nil {
		return nil
	}
	return f.conn.SetWriteDeadline(t)
}

func (f *fdStream) Flush() error { return nil }

// Frame implements hub.Framer: chunked transfer coding.
func (f *fdStream) Frame(dst []byte, n int) (head, tail []byte) { return chunkFrame(dst, n) }

// release closes conn: the net package forgets the socket, which the
// duplicate keeps open. Write and SetWriteDeadline are not called after.
func (f *fdStream) release() {
	f.mu.Lock()
	c := f.conn
	f.conn = nil
	f.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
}

// TryWrite implements hub.TryWriter: one non-blocking writev(2) of the
// shared buffers, at most iovMax of them.
func (f *fdStream) TryWrite(bufs [][]byte) (int, error) {
	if len(bufs) > iovMax {
		bufs = bufs[:iovMax]
	}
	for {
		n, err := unix.Writev(f.fd, bufs)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return 0, nil
		case err != nil:
			return 0, err
		}
		return n, nil
	}
}

// iovMax is Linux's limit on the buffers of one writev (UIO_MAXIOV).
const iovMax = 1024

// close ends the response with the last chunk when the socket takes it at
// once, and closes the socket.
//
// A stream closed because its client did not read (slow_consumer) or a
// write failed is reset instead: what its socket still holds is dropped
// at once, rather than kept by the kernel while it tries to deliver it to
// a client that does not read.
func (f *fdStream) close(reason string) {
	f.unwatch()
	if abortive(reason) {
		_ = unix.SetsockoptLinger(f.fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	} else {
		_, _ = unix.Write(f.fd, lastChunk)
	}
	f.release()
	_ = unix.Close(f.fd)
}
