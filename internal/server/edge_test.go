package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// startLimited runs the binary with its descriptor limit at 1024, as on a
// default Linux box, and waits for /healthz.
func startLimited(t *testing.T, args ...string) string {
	t.Helper()
	addr := freeAddr(t)
	all := append([]string{"--addr", addr, "--jwt-secret", secret, "--log-level", "error"}, args...)
	cmd := exec.Command("sh", append([]string{"-c", `ulimit -n 1024 && exec "$0" "$@"`, binary(t)}, all...)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// bodyTimeout is the --body-timeout the test runs the server with.
const bodyTimeout = 2 * time.Second

// TestBodilessPostsDoNotPinTheNode opens 2,000 sockets that each send a
// POST with Content-Length: 10 and no body (to the publish endpoint with a
// valid token, to the subscriptions endpoint without one, and to a path
// that does not exist) against a node limited to 1,024 descriptors. While
// they hang, /healthz must answer and a new stream must open; every one of
// them must be closed by the server within the body deadline.
func TestBodilessPostsDoNotPinTheNode(t *testing.T) {
	addr := startLimited(t, "--body-timeout", bodyTimeout.String(), "--max-request-conns", "256")
	pub := mint(t, "--sub", "backend", "--tenant", "t1", "--role", "publisher")
	const n = 2000
	paths := []string{"/api/events", "/api/sse/subscriptions", "/nope"}
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	start := time.Now()
	for i := range n {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns = append(conns, c)
		p := paths[i%len(paths)]
		hdr := ""
		if p == "/api/events" {
			hdr = "Authorization: Bearer " + pub + "\r\n"
		}
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\nContent-Length: 10\r\n\r\n", p, hdr)
	}
	var closed atomic.Int64
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			_ = c.SetReadDeadline(start.Add(bodyTimeout + 2*time.Second))
			_, err := io.Copy(io.Discard, c)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return // still open at the deadline
			}
			closed.Add(1)
		})
	}

	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("/healthz while %d bodiless posts hang: %v", n, err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/healthz: got %d, want 200", resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/api/sse", nil)
	req.Header.Set("Authorization", "Bearer "+mint(t, "--sub", "u1", "--tenant", "t1"))
	sresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("new stream while %d bodiless posts hang: %v", n, err)
	}
	defer sresp.Body.Close()
	if sresp.StatusCode != 200 {
		t.Fatalf("new stream: got %d, want 200", sresp.StatusCode)
	}
	line, err := bufio.NewReader(sresp.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "retry:") {
		t.Fatalf("new stream: first line %q, %v", line, err)
	}
	wg.Wait()
	elapsed := time.Since(start)
	if got := closed.Load(); got != n {
		t.Fatalf("%d of %d bodiless posts closed by the server within %v, want all", got, n, bodyTimeout+2*time.Second)
	}
	t.Logf("all %d closed within %v (body deadline %v)", n, elapsed.Round(time.Millisecond), bodyTimeout)
}

// TestSlowAndEndlessBodies: a body trickled byte by byte is answered 408
// at the body deadline, an endless chunked body 413 at --max-body, and a
// POST answered before its body (no token) is answered at once and closed.
func TestSlowAndEndlessBodies(t *testing.T) {
	addr := startLimited(t, "--body-timeout", bodyTimeout.String(), "--max-body", "4096")
	pub := mint(t, "--sub", "backend", "--tenant", "t1", "--role", "publisher")
	send := func(t *testing.T, head string, body func(net.Conn)) (string, time.Duration) {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		fmt.Fprintf(c, "POST /api/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%s\r\n", head)
		go body(c)
		_ = c.SetReadDeadline(time.Now().Add(bodyTimeout + 3*time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b))), time.Since(start)
	}
	auth := "Authorization: Bearer " + pub + "\r\n"
	t.Run("trickled", func(t *testing.T) {
		got, took := send(t, auth+"Content-Length: 100\r\n", func(c net.Conn) {
			for range 50 {
				if _, err := c.Write([]byte(" ")); err != nil {
					return
				}
				time.Sleep(200 * time.Millisecond)
			}
		})
		if !strings.HasPrefix(got, "408 ") || !strings.Contains(got, `"request_timeout"`) || took > bodyTimeout+time.Second {
			t.Fatalf("got %q after %v, want 408 request_timeout at %v", got, took, bodyTimeout)
		}
	})
	t.Run("endless chunked", func(t *testing.T) {
		got, took := send(t, auth+"Transfer-Encoding: chunked\r\n", func(c net.Conn) {
			for {
				if _, err := c.Write([]byte("400\r\n" + strings.Repeat(" ", 1024) + "\r\n")); err != nil {
					return
				}
			}
		})
		if !strings.HasPrefix(got, "413 ") || took > time.Second {
			t.Fatalf("got %q after %v, want 413 at once", got, took)
		}
	})
	t.Run("no token", func(t *testing.T) {
		got, took := send(t, "Content-Length: 10\r\n", func(net.Conn) {})
		if !strings.HasPrefix(got, "401 ") || took > time.Second {
			t.Fatalf("got %q after %v, want 401 at once", got, took)
		}
	})
}
