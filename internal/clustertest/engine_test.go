package clustertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
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
	name string
	args []string
	port int
	cmd  *exec.Cmd
	out  *tailBuffer
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

// ownRedis starts a redis-server; with aof its data survives restarts
// (appendonly, fsync every second, the usual production setting).
func ownRedis(t testing.TB, aof bool) *server {
	bin := lookBinary(t, "redis-server", "/usr/bin/redis-server")
	s := &server{t: t, name: "redis-server", port: freePort(t), out: &tailBuffer{max: 16 << 10}}
	s.args = []string{bin, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--dir", t.TempDir(), "--save", ""}
	if aof {
		s.args = append(s.args, "--appendonly", "yes")
	} else {
		s.args = append(s.args, "--appendonly", "no")
	}
	s.start()
	t.Cleanup(s.kill)
	return s
}

// ownNATS starts a nats-server with JetStream, its store in a temporary
// directory that survives restarts.
func ownNATS(t testing.TB) *server {
	bin := lookBinary(t, "nats-server", "/usr/sbin/nats-server")
	s := &server{t: t, name: "nats-server", port: freePort(t), out: &tailBuffer{max: 16 << 10}}
	s.args = []string{bin, "-js", "-sd", t.TempDir(), "-p", strconv.Itoa(s.port), "-a", "127.0.0.1"}
	s.start()
	t.Cleanup(s.kill)
	return s
}

func (s *server) url() string {
	if s.name == "redis-server" {
		return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port)
	}
	return fmt.Sprintf("nats://127.0.0.1:%d", s.port)
}

// start starts the process and waits until it listens (and, for NATS,
// until JetStream answers).
func (s *server) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.args[0], s.args[1:]...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", s.name, err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", s.port)
	ok := poll(15*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	})
	if ok && s.name == "nats-server" {
		ok = poll(15*time.Second, func() bool { return jetStreamReady(s.url()) })
	}
	if !ok {
		s.t.Fatalf("%s does not serve on %s; its output:\n%s", s.name, addr, s.out.String())
	}
}

func jetStreamReady(u string) bool {
	nc, err := nats.Connect(u, nats.Timeout(time.Second))
	if err != nil {
		return false
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = js.AccountInfo(ctx)
	return err == nil
}

// kill ends the process abruptly, as a crash would (SIGKILL).
func (s *server) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
	s.cmd = nil
}
