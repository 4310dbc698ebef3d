package ssehttp_test

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/ssehttp"
)

// BenchmarkIdleConnMemory opens idle streams over real TCP and reports the
// Go memory (heap in use plus goroutine stacks) each stream costs the
// server, for streams handed to the hub's writers and for the standard
// net/http path. Both ends live in this process, so the same number of
// plain TCP connections to a listener that only holds them is measured
// first and subtracted: what remains is the stream's cost beyond its
// sockets (the kernel's socket buffers are not Go memory either way).
func BenchmarkIdleConnMemory(b *testing.B) {
	for _, standard := range []bool{false, true} {
		name := "detached"
		if standard {
			name = "standard"
		}
		b.Run(name, func(b *testing.B) {
			const n = 2000
			h, _ := hub.New(hub.Config{MaxConns: -1, MaxConnsPerUser: -1, Heartbeat: time.Hour, Logger: slog.New(slog.DiscardHandler)})
			jwt, _ := auth.NewJWT(auth.JWTConfig{Secret: secret})
			mux := http.NewServeMux()
			ssehttp.Mount(mux, ssehttp.Config{Hub: h, Authenticator: jwt, StandardStreams: standard})
			srv := httptest.NewServer(mux)
			tok, _ := auth.Mint(secret, auth.Claims{Subject: "u", TenantID: "t1"}, time.Hour)
			plain := holdAll(b)
			var perConn float64
			for b.Loop() {
				clientOnly := measure(func() []net.Conn { return dialIdle(b, plain.Addr().String(), "", n) })
				both := measure(func() []net.Conn { return dialIdle(b, srv.Listener.Addr().String(), tok, n) })
				perConn = float64(both-clientOnly) / n
			}
			b.ReportMetric(perConn, "B/conn")
			srv.CloseClientConnections()
			_ = h.Shutdown(b.Context())
			srv.Close()
			_ = jwt.Close()
		})
	}
}

// measure returns the Go memory held after open() minus before, keeping
// the connections open while measuring, then closes them.
func measure(open func() []net.Conn) int64 {
	runtime.GC()
	before := goMemory()
	conns := open()
	time.Sleep(200 * time.Millisecond)
	runtime.GC()
	after := goMemory()
	for _, c := range conns {
		c.Close()
	}
	time.Sleep(200 * time.Millisecond)
	return after - before
}

func goMemory() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse + ms.StackInuse)
}

// holdAll listens on loopback and keeps every accepted connection open,
// with no goroutine or buffer per connection.
func holdAll(b *testing.B) net.Listener {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var held []net.Conn
		for {
			c, err := l.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	b.Cleanup(func() { l.Close(); <-done })
	return l
}

// dialIdle opens n connections. With a token each becomes a stream (the
// sse:ready line is read); without one it is a plain connection.
func dialIdle(b *testing.B, addr, tok string, n int) []net.Conn {
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		if tok != "" {
			fmt.Fprintf(c, "GET /api/sse HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", tok)
			br := bufio.NewReaderSize(c, 512)
			for {
				l, err := br.ReadString('\n')
				if err != nil {
					b.Fatal(err)
				}
				if strings.HasPrefix(l, "event: sse:ready") {
					break
				}
			}
		}
		conns = append(conns, c)
	}
	return conns
}
