package ssehttp

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/ssehttp/internal/netwatch"
)

// detach takes a plain HTTP/1.1 stream over from net/http: it writes the
// response head itself, hands the connection to the hub's writers
// (hub.Conn.Start) and returns, so that the handler goroutine, net/http's
// buffers and its background reader are all released. A netwatch.Watcher
// reports the client's hang-up to the hub; when the hub releases the
// connection, the socket is closed. On Linux the stream then leaves the
// net package too (takeOver in detach_linux.go).
//
// It returns false, having changed nothing, when the writer cannot be
// taken over; the caller then serves the stream the standard way.
func (s *streamHandler) detach(w http.ResponseWriter, rc *http.ResponseController, r *http.Request, c *hub.Conn) bool {
	head := responseHead(w.Header())
	conn, brw, err := rc.Hijack()
	if errors.Is(err, http.ErrNotSupported) {
		return false
	}
	if err != nil {
		c.Close()
		return true
	}
	brw.Reader.Reset(nil) // drop net/http's buffers now
	brw.Writer.Reset(nil)
	if tc, ok := conn.(*net.TCPConn); ok && s.cfg.SendBuffer > 0 {
		_ = tc.SetWriteBuffer(s.cfg.SendBuffer)
	}
	timeout := s.cfg.Hub.Config().WriteTimeout
	_ = conn.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := conn.Write(head); err != nil {
		c.Close()
		conn.Close()
		return true
	}
	sw, done, started := takeOver(conn, &s.watch, c.Gone)
	c.Start(r.Context(), sw, done)
	started()
	return true
}

// watchedConn is the portable transport of a detached stream: the hub
// writes the net.Conn with chunked framing, and a watch (or a reading
// goroutine when there is no descriptor to watch) reports the hang-up.
func watchedConn(conn net.Conn, watch *netwatch.Watcher, gone func()) (hub.Writer, func(string)) {
	stop, err := watch.Watch(conn, gone)
	if err != nil {
		stop = func() {}
		go func() { // no descriptor to watch: read until the client leaves
			var b [1]byte
			_, _ = conn.Read(b[:])
			gone()
		}()
	}
	return chunked{conn}, func(reason string) {
		stop()
		if tc, ok := conn.(*net.TCPConn); ok && abortive(reason) {
			_ = tc.SetLinger(0) // reset: drop what the socket holds
		} else {
			_ = conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			_, _ = conn.Write(lastChunk)
		}
		conn.Close()
	}
}

// abortive reports whether a stream that ended for reason is reset rather
// than closed: its client did not take what was sent, so the bytes its
// socket holds would only wait in the kernel.
func abortive(reason string) bool {
	return reason == hub.ReasonSlowConsumer || reason == hub.ReasonWriteError
}

// lastChunk ends a chunked response.
var lastChunk = []byte("0\r\n\r\n")

// responseHead renders the status line and headers of a 200 stream with
// chunked transfer coding.
func responseHead(h http.Header) []byte {
	var b strings.Builder
	b.WriteString("HTTP/1.1 200 OK\r\n")
	w := bufio.NewWriter(&b)
	h = h.Clone()
	h.Set("Transfer-Encoding", "chunked")
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	_ = h.Write(w) // Header.Write drops values with CR or LF
	_ = w.Flush()
	b.WriteString("\r\n")
	return []byte(b.String())
}

// chunked writes a hijacked connection with HTTP/1.1 chunked framing: the
// hub frames each write with Frame and writes the bytes through.
type chunked struct{ net.Conn }

func (chunked) Flush() error { return nil }

// Frame implements hub.Framer.
func (chunked) Frame(dst []byte, n int) (head, tail []byte) { return chunkFrame(dst, n) }

// chunkFrame returns the framing of one chunk of n bytes: its size line,
// appended to dst, and the CRLF after it.
func chunkFrame(dst []byte, n int) (head, tail []byte) {
	dst = strconv.AppendInt(dst, int64(n), 16)
	return append(dst, '\r', '\n'), crlf
}

var crlf = []byte("\r\n")
