package server_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ssehub/ssehub/internal/server"
	"github.com/ssehub/ssehub/sse"
)

const secret = "server-test-secret-server-test-secret"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cmd/ssehub once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ssehub-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ssehub")
		out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/ssehub").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func mint(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(binary(t), append([]string{"token", "--jwt-secret", secret}, args...)...).Output()
	if err != nil {
		t.Fatalf("ssehub token %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

// TestSIGTERMDeliversEverythingAcknowledged runs the real binary, keeps
// publishing while it receives SIGTERM, and checks that every connected
// client got every event answered 202, then sse:shutdown.
func TestSIGTERMDeliversEverythingAcknowledged(t *testing.T) {
	addr := freeAddr(t)
	cmd := exec.Command(binary(t), "--addr", addr, "--jwt-secret", secret, "--heartbeat", "100ms", "--log-level", "warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	base := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	type stream struct {
		ids     []string
		control []string
		done    chan struct{}
	}
	var streams []*stream
	for i := range 3 {
		req, _ := http.NewRequest("GET", base+"/api/sse", nil)
		req.Header.Set("Authorization", "Bearer "+mint(t, "--sub", fmt.Sprintf("u%d", i), "--tenant", "t1"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("stream %d: %v %v", i, err, resp)
		}
		s := &stream{done: make(chan struct{})}
		streams = append(streams, s)
		go func() {
			defer close(s.done)
			defer resp.Body.Close()
			for ev, err := range sse.NewDecoder(resp.Body).Events() {
				if err != nil {
					return
				}
				if strings.HasPrefix(ev.Name, "sse:") {
					s.control = append(s.control, ev.Name)
				} else {
					s.ids = append(s.ids, ev.ID)
				}
			}
		}()
	}
	pub := mint(t, "--sub", "backend", "--tenant", "t1", "--role", "publisher")
	var acked []string
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		client := &http.Client{Timeout: 5 * time.Second}
		for i := 0; ; i++ {
			body := fmt.Sprintf(`{"event":"tick","tenantId":"t1","target":{"tenantId":"t1"},"data":{"i":%d}}`, i)
			req, _ := http.NewRequest("POST", base+"/api/events", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+pub)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				return // the server is gone
			}
			var id struct{ ID string }
			if resp.StatusCode == 202 {
				_ = jsonDecode(resp, &id)
				acked = append(acked, id.ID)
			}
			resp.Body.Close()
			if resp.StatusCode == 503 {
				return
			}
		}
	}()
	time.Sleep(400 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v, want status 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server did not exit within 15s of SIGTERM")
	}
	<-stopped
	if len(acked) < 10 {
		t.Fatalf("only %d publishes acknowledged before the signal; the test needs a busy stream", len(acked))
	}
	for i, s := range streams {
		<-s.done
		if !slices.Equal(s.ids, acked) {
			t.Errorf("stream %d: got %d events, want all %d acknowledged, in order", i, len(s.ids), len(acked))
		}
		if len(s.control) == 0 || s.control[len(s.control)-1] != "sse:shutdown" {
			t.Errorf("stream %d: control events %v, want sse:shutdown last", i, s.control)
		}
	}
	t.Logf("%d events acknowledged, all delivered to %d streams before sse:shutdown", len(acked), len(streams))
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	file := func(body string) string {
		p := filepath.Join(dir, fmt.Sprintf("c%d.yaml", time.Now().UnixNano()))
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	cases := []struct {
		name string
		args []string
		env  func(string) string
		want string
	}{
		{"bad duration flag", []string{"--heartbeat", "soon"}, env(), "not a duration"},
		{"bad duration env", nil, env("SSEHUB_HEARTBEAT", "5x"), "SSEHUB_HEARTBEAT"},
		{"zero heartbeat", []string{"--heartbeat", "0s"}, env(), "heartbeat: must be positive"},
		{"bad policy", []string{"--user-limit-policy", "kick"}, env(), "user-limit-policy"},
		{"short secret", []string{"--jwt-secret", "short"}, env(), "at least 32"},
		{"bad rate limits", []string{"--rate-limits", "chat:typing=fast"}, env(), "rate-limits"},
		{"unknown file key", []string{"--config", file("heartbeet: 1s\n")}, env(), `unknown key "heartbeet"`},
		{"bad file value", []string{"--config", file("max-conns: many\n")}, env(), "max-conns"},
		{"missing file", []string{"--config", filepath.Join(dir, "nope.yaml")}, env(), "no such file"},
		{"stray argument", []string{"extra"}, env(), "unexpected arguments"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := server.Load("serve", tc.args, tc.env, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestConfigPrecedence(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte("heartbeat: 10s\nmax-conns: 7\nqueue-size: 9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		return map[string]string{"SSEHUB_CONFIG": p, "SSEHUB_MAX_CONNS": "8", "SSEHUB_QUEUE_SIZE": "10"}[k]
	}
	c, err := server.Load("serve", []string{"--queue-size", "11"}, getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Heartbeat != 10*time.Second || c.MaxConns != 8 || c.QueueSize != 11 || c.Addr != "127.0.0.1:8080" {
		t.Fatalf("got heartbeat %v max-conns %d queue-size %d addr %s; want file 10s, env 8, flag 11, default addr", c.Heartbeat, c.MaxConns, c.QueueSize, c.Addr)
	}
}

func TestTokenCommand(t *testing.T) {
	var out, errb strings.Builder
	if code := server.Main([]string{"token", "--sub", "u1"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "no secret") {
		t.Fatalf("without a secret: code %d, stderr %q", code, errb.String())
	}
	out.Reset()
	if code := server.Main([]string{"token", "--jwt-secret", secret, "--sub", "u1", "--tenant", "t1", "--role", "publisher"}, &out, &errb); code != 0 {
		t.Fatalf("token: code %d, stderr %q", code, errb.String())
	}
	if parts := strings.Split(strings.TrimSpace(out.String()), "."); len(parts) != 3 {
		t.Fatalf("token: got %q, want a JWT", out.String())
	}
}

func TestHelpListsEverySubcommand(t *testing.T) {
	for _, arg := range []string{"help", "-h", "--help"} {
		var out, errb strings.Builder
		if code := server.Main([]string{arg}, &out, &errb); code != 0 {
			t.Fatalf("%s: code %d, stderr %q", arg, code, errb.String())
		}
		for _, sub := range []string{"serve", "token", "gen", "version"} {
			if !strings.Contains(out.String(), "ssehub "+sub) {
				t.Errorf("%s: got %q, want it to list 'ssehub %s'", arg, out.String(), sub)
			}
		}
	}
}

func TestDevModePrintsWorkingCommands(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := server.Defaults()
	cfg.Addr = "127.0.0.1:0"
	cfg.LogLvl = "error"
	var out strings.Builder
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, cfg, &out, os.Stderr, ready) }()
	addr := <-ready
	// The printed commands carry tokens: the publisher's must be accepted.
	text := out.String()
	i := strings.LastIndex(text, "Bearer ")
	tok := strings.Fields(text[i+len("Bearer "):])[0]
	tok = strings.TrimSuffix(tok, "'")
	body := `{"event":"notification:new","tenantId":"acme","target":{"userId":"alice"},"data":{"title":"Hello"}}`
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/events", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("publish with the printed token: %v %v", err, resp)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
}
