package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssehub/ssehub/internal/server"
)

// runBinary runs the binary with env added to a clean environment and
// returns its exit code and stderr; it must exit within 10 s.
func runBinary(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stderr.String()
	}
	t.Fatalf("run: %v (stderr %q)", err, stderr.String())
	return -1, ""
}

// TestUnknownEnvironmentVariables: a SSEHUB_* variable that names no
// setting is a start-up error (exit 2) that names the closest setting's
// variable, for the server and for `ssehub token`.
func TestUnknownEnvironmentVariables(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"SSEHUB_MAX_CLIENTS=2", "SSEHUB_MAX_CONNS"},
		{"SSEHUB_LOGLEVEL=debug", "SSEHUB_LOG_LEVEL"},
		{"SSEHUB_HEARTBEAT_INTERVAL=5s", "SSEHUB_HEARTBEAT"},
		{"SSEHUB_JWT_SECERT=" + secret, "SSEHUB_JWT_SECRET"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			code, stderr := runBinary(t, []string{tc.env}, "--addr", freeAddr(t), "--jwt-secret", secret)
			name, _, _ := strings.Cut(tc.env, "=")
			if code != 2 || !strings.Contains(stderr, name) || !strings.Contains(stderr, tc.want) {
				t.Fatalf("got exit %d, stderr %q; want 2 naming %s and %s", code, stderr, name, tc.want)
			}
		})
	}
	t.Run("token", func(t *testing.T) {
		code, stderr := runBinary(t, []string{"SSEHUB_JWT_SECRETT=" + secret}, "token", "--sub", "u1", "--tenant", "t1")
		if code != 2 || !strings.Contains(stderr, "SSEHUB_JWT_SECRET") {
			t.Fatalf("got exit %d, stderr %q; want 2 naming SSEHUB_JWT_SECRET", code, stderr)
		}
	})
}

// TestDevModeOnlyOnLoopback: with no key, a non-loopback address is a
// start-up error that names the missing variable; so is --dev there.
func TestDevModeOnlyOnLoopback(t *testing.T) {
	for _, args := range [][]string{
		{"--addr", "0.0.0.0:0"},
		{"--addr", ":0"},
		{"--addr", "0.0.0.0:0", "--dev", "--jwt-secret", secret},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stderr := runBinary(t, nil, args...)
			if code != 2 || !strings.Contains(stderr, "SSEHUB_JWT_SECRET") || !strings.Contains(stderr, "loopback") {
				t.Fatalf("got exit %d, stderr %q; want 2 naming SSEHUB_JWT_SECRET and loopback", code, stderr)
			}
		})
	}
	if _, err := server.Load("serve", []string{"--addr", "[::1]:0"}, func(string) string { return "" }, nil); err != nil {
		t.Fatalf("dev mode on [::1]: %v", err)
	}
}

// TestStartupLogsEffectiveConfiguration: the settings in force are logged
// at start, the secret and the broker's password redacted.
func TestStartupLogsEffectiveConfiguration(t *testing.T) {
	cfg, err := server.Load("serve", []string{"--addr", "127.0.0.1:0", "--jwt-secret", secret, "--max-conns", "7", "--log-format", "json"}, func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, cfg, &strings.Builder{}, &syncWriter{w: &logs}, ready) }()
	<-ready
	cancel()
	<-done
	out := logs.String()
	for _, want := range []string{`"msg":"effective configuration"`, `"max_conns":"7"`, `"heartbeat":"30s"`, `"jwt_secret":"(set, 37 bytes)"`} {
		if !strings.Contains(out, want) {
			t.Errorf("start-up log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, secret) {
		t.Errorf("start-up log contains the secret:\n%s", out)
	}
}

// syncWriter serializes writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// runLogged runs the server in-process with JSON logs and returns its
// address, the logs and a stop function that waits for it.
func runLogged(t *testing.T, args ...string) (string, *strings.Builder, func()) {
	t.Helper()
	cfg, err := server.Load("serve", append([]string{"--addr", "127.0.0.1:0", "--jwt-secret", secret, "--log-format", "json"}, args...), func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	logs := &strings.Builder{}
	sw := &syncWriter{w: logs}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, cfg, &strings.Builder{}, sw, ready) }()
	addr := <-ready
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(stop)
	return addr, logs, func() { stop(); sw.mu.Lock(); sw.mu.Unlock() }
}

// TestRefusedRequestsAreLogged: one line per refused request, with the
// status, code, client address (X-Forwarded-For only from a trusted
// proxy) and request id (X-Request-Id, echoed, or made); a flood of
// refusals is rate-limited; durations are seconds in JSON.
func TestRefusedRequestsAreLogged(t *testing.T) {
	for _, tc := range []struct {
		name, trusted, wantAddr string
	}{
		{"untrusted proxy", "10.0.0.0/8", `"client_addr":"127.0.0.1"`},
		{"trusted proxy", "127.0.0.1/32", `"client_addr":"203.0.113.7"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, logs, stop := runLogged(t, "--trusted-proxies", tc.trusted)
			req, _ := http.NewRequest("POST", "http://"+addr+"/api/events", strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Forwarded-For", "198.51.100.1, 203.0.113.7")
			req.Header.Set("X-Request-Id", "req-abc")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("X-Request-Id"); got != "req-abc" {
				t.Errorf("X-Request-Id: got %q, want req-abc", got)
			}
			resp, err = http.Get("http://" + addr + "/nope")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			made := resp.Header.Get("X-Request-Id")
			stop()
			out := logs.String()
			for _, want := range []string{`"msg":"request refused"`, `"status":401`, `"code":"unauthorized"`, `"request_id":"req-abc"`, tc.wantAddr, `"status":404`, `"timeout":15`} {
				if !strings.Contains(out, want) {
					t.Errorf("logs lack %s:\n%s", want, out)
				}
			}
			if made == "" || !strings.Contains(out, `"request_id":"`+made+`"`) {
				t.Errorf("made request id %q not logged", made)
			}
		})
	}
	t.Run("flood", func(t *testing.T) {
		addr, logs, stop := runLogged(t)
		for range 300 {
			resp, err := http.Get("http://" + addr + "/nope")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		stop()
		if n := strings.Count(logs.String(), `"msg":"request refused"`); n < 1 || n > 60 {
			t.Fatalf("%d lines for 300 refused requests, want 1 to 60", n)
		}
	})
}
