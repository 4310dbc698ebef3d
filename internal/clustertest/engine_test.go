package clustertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
)

// engine is what the nodes of one test share: the broker URL they get.
type engine struct {
	name string // "redis" or "nats"
	url  string
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// withQuery returns raw with the query parameters kv (key, value, …) set.
func withQuery(raw string, kv ...string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// sharedRedis returns the shared Redis with a fresh prefix, whose keys are
// deleted at cleanup.
func sharedRedis(t testing.TB) engine {
	t.Helper()
	base := os.Getenv("SSEHUB_TEST_REDIS_URL")
	if base == "" {
		base = "redis://127.0.0.1:6379/0"
	}
	opt, err := redis.ParseURL(base)
	if err != nil {
		t.Fatalf("SSEHUB_TEST_REDIS_URL: %v", err)
	}
	rc := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rc.Ping(ctx).Err(); err != nil {
		_ = rc.Close()
		unavailable(t, fmt.Sprintf("REDIS IS NOT REACHABLE AT %s (%v): the cluster tests need a real Redis", base, err))
	}
	prefix := "ssehub-clustertest-" + randomSuffix()
	t.Cleanup(func() {
		defer rc.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := rc.Scan(ctx, 0, "{"+prefix+"}:*", 100).Iterator()
		for iter.Next(ctx) {
			_ = rc.Del(ctx, iter.Val()).Err()
		}
		if err := iter.Err(); err != nil {
			t.Errorf("cleanup of Redis prefix %s: %v", prefix, err)
		}
	})
	return engine{"redis", withQuery(base, "prefix", prefix)}
}

// sharedNATS returns the shared NATS with a fresh stream (file storage,
// the default), deleted at cleanup.
func sharedNATS(t testing.TB) engine {
	t.Helper()
	base := os.Getenv("SSEHUB_TEST_NATS_URL")
	if base == "" {
		base = "nats://127.0.0.1:4222"
	}
	nc, err := nats.Connect(base, nats.Timeout(2*time.Second), nats.Name("ssehub-clustertest-admin"))
	var js jetstream.JetStream
	if err == nil {
		js, err = jetstream.New(nc)
	}
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err = js.AccountInfo(ctx)
		cancel()
	}
	if err != nil {
		if nc != nil {
			nc.Close()
		}
		unavailable(t, fmt.Sprintf("NATS WITH JETSTREAM IS NOT REACHABLE AT %s (%v): the cluster tests need a real nats-server -js", base, err))
	}
	stream := "SSEHUBCT_" + strings.ToUpper(randomSuffix())
	t.Cleanup(func() {
		defer nc.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := js.DeleteStream(ctx, stream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("cleanup of NATS stream %s: %v", stream, err)
		}
	})
	return engine{"nats", withQuery(base, "stream", stream)}
}

// forEachEngine runs fn as a subtest on the shared Redis, then on the
// shared NATS.
func forEachEngine(t *testing.T, fn func(t *testing.T, e engine)) {
	for _, mk := range []struct {
		name string
		open func(testing.TB) engine
	}{{"redis", sharedRedis}, {"nats", sharedNATS}} {
		t.Run(mk.name, func(t *testing.T) { fn(t, mk.open(t)) })
	}
}

// server is an engine process of the test's own (redis-server or
// nats-server), so that the test can kill and restart it on the same port
// and data directory without disturbing the shared one.
type server struct {
	t    testing.TB
	name string // "redis-server" or "nats-server"
	bin  string
	dir  string // data directory, kept across restarts
	aof  bool   // redis: appendonly
	id   string // nats: server name, to recognise our process
	port int

	cmd     *exec.Cmd
	exited  chan struct{}
	out     *tailBuffer
	started bool
}

func lookBinary(t testing.TB, name string, paths ...string) string {
	t.Helper()
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	unavailable(t, fmt.Sprintf("%s IS NOT INSTALLED (looked in %s and $PATH): the engine-restart tests run their own server; .ci/run installs it from Debian packages", strings.ToUpper(name), strings.Join(paths, ", ")))
	return ""
}

// ownRedis starts a redis-server. With aof its data survives restarts:
// appendonly with appendfsync always. (With everysec, the default, Redis
// may answer a write before it reaches the file when a background fsync
// is slow, and lose it if it crashes: seen here under load, see
// TestRedisRollback.) Without aof it keeps nothing but what an explicit
// SAVE writes.
func ownRedis(t testing.TB, aof bool) *server {
	s := &server{t: t, name: "redis-server", bin: lookBinary(t, "redis-server", "/usr/bin/redis-server"), dir: t.TempDir(), aof: aof}
	s.start()
	t.Cleanup(s.cleanup)
	return s
}

// ownNATS starts a nats-server with JetStream, its store in a temporary
// directory that survives restarts.
func ownNATS(t testing.TB) *server {
	s := &server{t: t, name: "nats-server", bin: lookBinary(t, "nats-server", "/usr/sbin/nats-server"), dir: t.TempDir(), id: "clustertest-" + randomSuffix()}
	s.start()
	t.Cleanup(s.cleanup)
	return s
}

func (s *server) url() string {
	if s.name == "redis-server" {
		return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port)
	}
	return fmt.Sprintf("nats://127.0.0.1:%d", s.port)
}

func (s *server) args() []string {
	port := strconv.Itoa(s.port)
	if s.name == "redis-server" {
		if !s.aof {
			return []string{"--port", port, "--bind", "127.0.0.1", "--dir", s.dir, "--save", "", "--appendonly", "no"}
		}
		return []string{"--port", port, "--bind", "127.0.0.1", "--dir", s.dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always"}
	}
	return []string{"-js", "-sd", s.dir, "-p", port, "-a", "127.0.0.1", "-n", s.id}
}

// start starts the process and waits until it serves. The first start
// picks a free port, and another one if that was taken meanwhile; later
// starts (restarts) use the same port.
func (s *server) start() {
	s.t.Helper()
	for try := 0; ; try++ {
		if !s.started {
			s.port = freePort(s.t)
		}
		err := s.launch()
		if err == nil {
			s.started = true
			return
		}
		s.kill()
		if s.started || try == 2 {
			s.t.Fatalf("%s on port %d: %v; its output:\n%s", s.name, s.port, err, s.out.String())
		}
	}
}

// launch starts the process and waits until it is the one that answers on
// its port (another process may have taken the port).
func (s *server) launch() error {
	s.out = &tailBuffer{max: 16 << 10}
	s.cmd = exec.Command(s.bin, s.args()...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	s.exited = exited
	go func() {
		_ = s.cmd.Wait()
		close(exited)
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-exited:
			return errors.New("exited at start")
		default:
		}
		if s.ours() {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("does not serve within 15s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ours reports whether our process serves on the port: Redis must report
// our pid, NATS our server name and a working JetStream.
func (s *server) ours() bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if s.name == "redis-server" {
		rc := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", s.port), DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
		defer rc.Close()
		info, err := rc.Info(ctx, "server").Result()
		return err == nil && strings.Contains(info, fmt.Sprintf("process_id:%d\r\n", s.cmd.Process.Pid))
	}
	nc, err := nats.Connect(s.url(), nats.Timeout(time.Second), nats.NoReconnect())
	if err != nil {
		return false
	}
	defer nc.Close()
	if nc.ConnectedServerName() != s.id {
		return false
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return false
	}
	_, err = js.AccountInfo(ctx)
	return err == nil
}

// cleanup kills the process and, when the test failed, logs the output of
// its last start.
func (s *server) cleanup() {
	s.kill()
	if s.t.Failed() && s.out != nil {
		s.t.Logf("%s output (last 16 KiB):\n%s", s.name, s.out.String())
	}
}

// kill ends the process abruptly, as a crash would (SIGKILL), and waits
// until it is gone.
func (s *server) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}
