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

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/broker/redisbroker"
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
	streamTok := mint(t, "--sub", "u1", "--tenant", "t1") // minted before the clock starts
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
			_ = c.SetReadDeadline(start.Add(bodyTimeout + 3*time.Second)) // slack for a loaded machine
			_, err := io.Copy(io.Discard, c)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return // still open at the deadline
			}
			closed.Add(1)
		})
	}

	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("/healthz while %d bodiless posts hang: %v", n, err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/healthz: got %d, want 200", resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/api/sse", nil)
	req.Header.Set("Authorization", "Bearer "+streamTok)
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
		t.Fatalf("%d of %d bodiless posts closed by the server within %v, want all", got, n, bodyTimeout+3*time.Second)
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

// do sends one request to the server at addr and returns its status and
// error code.
func do(t *testing.T, method, url string, hdr map[string]string, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 3 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var e struct{ Error struct{ Code string } }
	_ = jsonDecode(resp, &e)
	return resp.StatusCode, e.Error.Code
}

// TestPostsAreJSONAndCookiesSameSite: every POST with a body must say
// exactly application/json (415 otherwise), and a request authenticated
// by the cookie from another site is refused (403) unless its origin is in
// --cors-origins; a cross-site stream request with the cookie never evicts
// the user's stream, and HEAD of the stream registers none.
func TestPostsAreJSONAndCookiesSameSite(t *testing.T) {
	addr := startLimited(t, "--cors-origins", "https://app.example", "--max-conns-per-user", "1")
	base := "http://" + addr
	pub := mint(t, "--sub", "backend", "--tenant", "t1", "--role", "publisher")
	user := mint(t, "--sub", "u1", "--tenant", "t1", "--channels", "*")
	event := `{"event":"x","tenantId":"t1","target":{"tenantId":"t1"},"data":{}}`
	bearer := map[string]string{"Authorization": "Bearer " + pub}
	with := func(h map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range h {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	cookie := map[string]string{"Cookie": "ssehub_token=" + pub}
	for _, tc := range []struct {
		name, path string
		hdr        map[string]string
		body       string
		status     int
		code       string
	}{
		{"no content type", "/api/events", bearer, event, 415, "unsupported_media_type"},
		{"jsonp", "/api/events", with(bearer, "Content-Type", "application/jsonp"), event, 415, "unsupported_media_type"},
		{"json-patch", "/api/events", with(bearer, "Content-Type", "application/json-patch+json"), event, 415, "unsupported_media_type"},
		{"text/plain", "/api/events", with(bearer, "Content-Type", "text/plain"), event, 415, "unsupported_media_type"},
		{"json with params, any case", "/api/events", with(bearer, "Content-Type", "Application/JSON; charset=utf-8"), event, 202, ""},
		{"subscriptions text/plain", "/api/sse/subscriptions", with(bearer, "Content-Type", "text/plain"), `{"connectionId":"x"}`, 415, "unsupported_media_type"},
		{"cookie, no content type", "/api/events", cookie, event, 415, "unsupported_media_type"},
		{"cookie, cross-site", "/api/events", with(cookie, "Content-Type", "application/json", "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"), event, 403, "forbidden"},
		{"cookie, other origin, no fetch metadata", "/api/events", with(cookie, "Content-Type", "application/json", "Origin", "https://evil.example"), event, 403, "forbidden"},
		{"cookie, allowed origin", "/api/events", with(cookie, "Content-Type", "application/json", "Sec-Fetch-Site", "cross-site", "Origin", "https://app.example"), event, 202, ""},
		{"cookie, same origin", "/api/events", with(cookie, "Content-Type", "application/json", "Sec-Fetch-Site", "same-origin", "Origin", base), event, 202, ""},
		{"bearer, cross-site", "/api/events", with(bearer, "Content-Type", "application/json", "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"), event, 202, ""},
		{"cookie, cross-site admin post", "/api/admin/sse/disable", map[string]string{"Cookie": "ssehub_token=" + mint(t, "--sub", "ops", "--role", "admin", "--global"), "Sec-Fetch-Site": "cross-site"}, "", 403, "forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if st, code := do(t, "POST", base+tc.path, tc.hdr, tc.body); st != tc.status || code != tc.code {
				t.Fatalf("got %d %q, want %d %q", st, code, tc.status, tc.code)
			}
		})
	}

	// u1 is at its limit of one stream; cross-site GET and any HEAD with
	// the cookie must leave that stream alone.
	req, _ := http.NewRequest("GET", base+"/api/sse", nil)
	req.Header.Set("Authorization", "Bearer "+user)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("victim stream: %v %v", err, resp)
	}
	defer resp.Body.Close()
	events := make(chan string, 16)
	go func() {
		br := bufio.NewReader(resp.Body)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				close(events)
				return
			}
			if strings.HasPrefix(line, "event:") {
				events <- strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			}
		}
	}()
	if ev := <-events; ev != "sse:ready" {
		t.Fatalf("victim: first event %q", ev)
	}
	ucookie := map[string]string{"Cookie": "ssehub_token=" + user}
	if st, _ := do(t, "GET", base+"/api/sse", with(ucookie, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"), ""); st != 403 {
		t.Errorf("cross-site GET /api/sse with the cookie: got %d, want 403", st)
	}
	if st, _ := do(t, "HEAD", base+"/api/sse", with(ucookie, "Sec-Fetch-Site", "cross-site"), ""); st != 403 {
		t.Errorf("cross-site HEAD /api/sse with the cookie: got %d, want 403", st)
	}
	if st, _ := do(t, "HEAD", base+"/api/sse", ucookie, ""); st != 200 {
		t.Errorf("same-site HEAD /api/sse: got %d, want 200", st)
	}
	select {
	case ev, ok := <-events:
		t.Fatalf("victim stream got %q (open %v), want it untouched", ev, ok)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestTenantBoundAdminStaysInItsTenant: a token with the admin role and a
// tenant (what the demo used to mint for its operator, tid "_ops") may
// not publish into another tenant, broadcast, read every tenant's stats
// or connections, or disable streaming; the same roles with the explicit
// "global" claim may.
func TestTenantBoundAdminStaysInItsTenant(t *testing.T) {
	addr := startLimited(t)
	base := "http://" + addr
	bound := map[string]string{"Authorization": "Bearer " + mint(t, "--sub", "ops", "--tenant", "_ops", "--role", "admin"), "Content-Type": "application/json"}
	nameless := map[string]string{"Authorization": "Bearer " + mint(t, "--sub", "backend", "--role", "publisher"), "Content-Type": "application/json"}
	for _, tc := range []struct {
		name, method, path string
		hdr                map[string]string
		body               string
		want               int
	}{
		{"into another tenant", "POST", "/api/events", bound, `{"event":"x","tenantId":"t1","target":{"tenantId":"t1"},"data":{}}`, 403},
		{"broadcast", "POST", "/api/events", bound, `{"event":"x","target":{"broadcast":true},"data":{}}`, 403},
		{"stats", "GET", "/api/sse/stats", bound, "", 403},
		{"all connections", "GET", "/api/admin/sse/connections", bound, "", 403},
		{"disable", "POST", "/api/admin/sse/disable", bound, "", 403},
		{"into its own tenant", "POST", "/api/events", bound, `{"event":"x","tenantId":"_ops","target":{"tenantId":"_ops"},"data":{}}`, 202},
		{"its own connections", "GET", "/api/admin/sse/connections?tenantId=_ops", bound, "", 200},
		{"publisher with no tenant claim", "POST", "/api/events", nameless, `{"event":"x","tenantId":"t1","target":{"tenantId":"t1"},"data":{}}`, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if st, code := do(t, tc.method, base+tc.path, tc.hdr, tc.body); st != tc.want {
				t.Fatalf("got %d %q, want %d", st, code, tc.want)
			}
		})
	}
}

// TestSmallEdges: ?access_token= only on GET /api/sse, the channel list
// counted before it is parsed, HTTP/1.0 streams refused with 505, and
// connection ids length-checked before they reach the hub.
func TestSmallEdges(t *testing.T) {
	addr := startLimited(t)
	base := "http://" + addr
	pub := mint(t, "--sub", "backend", "--tenant", "t1", "--role", "publisher")
	user := mint(t, "--sub", "u1", "--tenant", "t1", "--channels", "*")
	admin := mint(t, "--sub", "ops", "--role", "admin", "--global")
	jsonPub := map[string]string{"Authorization": "Bearer " + pub, "Content-Type": "application/json"}
	long := strings.Repeat("n1.", 50)
	var hb strings.Builder
	for i := range 110_000 {
		fmt.Fprintf(&hb, "c%d,", i)
	}
	huge := hb.String()
	for _, tc := range []struct {
		name, method, url string
		hdr               map[string]string
		body              string
		want              int
		took              time.Duration
	}{
		{"access_token on stats", "GET", base + "/api/sse/stats?access_token=" + admin, nil, "", 400, 0},
		{"access_token on publish", "POST", base + "/api/events?access_token=" + pub, map[string]string{"Content-Type": "application/json"}, `{"event":"x","tenantId":"t1","target":{"tenantId":"t1"},"data":{}}`, 400, 0},
		{"110,000 channels", "GET", base + "/api/sse?channels=" + huge, map[string]string{"Authorization": "Bearer " + user}, "", 400, 50 * time.Millisecond},
		{"long excludeConnectionId", "POST", base + "/api/events", jsonPub, `{"event":"x","tenantId":"t1","target":{"tenantId":"t1"},"data":{},"excludeConnectionId":"` + long + `"}`, 400, 0},
		{"long connectionId", "POST", base + "/api/sse/subscriptions", map[string]string{"Authorization": "Bearer " + user, "Content-Type": "application/json"}, `{"connectionId":"` + long + `","subscribe":["a"]}`, 400, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			st, code := do(t, tc.method, tc.url, tc.hdr, tc.body)
			if st != tc.want {
				t.Fatalf("got %d %q, want %d", st, code, tc.want)
			}
			if tc.took > 0 && time.Since(start) > tc.took {
				t.Errorf("took %v, want under %v", time.Since(start), tc.took)
			}
		})
	}
	t.Run("access_token on the stream", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/sse?access_token="+user, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("got %v %v, want 200", err, resp)
		}
		resp.Body.Close()
	})
	t.Run("HTTP/1.0 stream", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		fmt.Fprintf(c, "GET /api/sse HTTP/1.0\r\nAuthorization: Bearer %s\r\n\r\n", user)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 505 || len(resp.TransferEncoding) > 0 {
			t.Fatalf("got %d %v, want 505 and no chunked encoding", resp.StatusCode, resp.TransferEncoding)
		}
	})
}

// TestEnableAnswersTheStateInForce: when a disable with a later version
// (here forged on the engine, as a node with a clock far ahead would send)
// keeps streaming disabled, POST .../enable answers {"disabled":true}, the
// state in force, not the state requested.
func TestEnableAnswersTheStateInForce(t *testing.T) {
	redisURL := os.Getenv("SSEHUB_TEST_REDIS_URL")
	if redisURL == "" {
		redisURL = "redis://127.0.0.1:6379/0"
	}
	prefix := fmt.Sprintf("enabletest%d", time.Now().UnixNano())
	forger, err := redisbroker.New(context.Background(), redisbroker.Config{URL: redisURL, Prefix: prefix})
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skipf("REDIS NOT REACHABLE: %v", err)
	}
	defer forger.Close()
	addr := startLimited(t, "--broker", redisURL+"?prefix="+prefix)
	time.Sleep(200 * time.Millisecond)
	if err := forger.Send(context.Background(), broker.Control{Kind: "disable", From: "skewed", Body: []byte(`{"d":true,"v":9223372036854775000}`)}); err != nil {
		t.Fatal(err)
	}
	user := map[string]string{"Authorization": "Bearer " + mint(t, "--sub", "u1", "--tenant", "t1")}
	deadline := time.Now().Add(3 * time.Second)
	for {
		if st, _ := do(t, "HEAD", "http://"+addr+"/api/sse", user, ""); st == 503 {
			break // the later disable is in force
		}
		if time.Now().After(deadline) {
			t.Fatal("the forged disable never took effect")
		}
		time.Sleep(20 * time.Millisecond)
	}
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/admin/sse/enable", nil)
	req.Header.Set("Authorization", "Bearer "+mint(t, "--sub", "ops", "--role", "admin", "--global"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Disabled bool }
	_ = jsonDecode(resp, &body)
	st, _ := do(t, "HEAD", "http://"+addr+"/api/sse", user, "")
	if !body.Disabled || st != 503 {
		t.Fatalf("enable answered {\"disabled\":%v}; streams then get %d; want the answer to be the state in force (disabled, 503)", body.Disabled, st)
	}
}
