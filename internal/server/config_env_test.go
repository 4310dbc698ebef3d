package server_test

import (
	"context"
	"errors"
	"io"
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
