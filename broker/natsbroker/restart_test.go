package natsbroker_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/broker/natsbroker"
)

// server is a nats-server process of the test's own, so that the test can
// restart it without disturbing the shared one.
type server struct {
	t    *testing.T
	args []string
	port int
	cmd  *exec.Cmd
}

func startNATS(t *testing.T) *server {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		msg := "NATS-SERVER IS NOT INSTALLED: the restart tests need the binary"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip("!!! SKIPPED: " + msg)
	}
	s := &server{t: t, port: freePort(t)}
	s.args = []string{bin, "-a", "127.0.0.1", "-p", strconv.Itoa(s.port), "-js", "-sd", t.TempDir()}
	s.start()
	t.Cleanup(s.kill)
	return s
}

func (s *server) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.port) }

func (s *server) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.args[0], s.args[1:]...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", s.args[0], err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), 100*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s does not listen on %d", s.args[0], s.port)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill ends the process abruptly, as a crash would.
func (s *server) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
	s.cmd = nil
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestRestart crashes and restarts a nats-server under a subscribed node:
// with file storage the stream and its epoch survive and delivery resumes
// with no gap or repeat; with memory storage a new epoch starts.
func TestRestart(t *testing.T) {
	for _, memory := range []bool{false, true} {
		t.Run(map[bool]string{false: "FileStorage", true: "MemoryStorage"}[memory], func(t *testing.T) {
			ctx := ctxT(t, 30*time.Second)
			srv := startNATS(t)
			b := newNode(t, natsbroker.Config{URL: srv.url(), MemoryStorage: memory, Timeout: time.Second})
			var c collector
			if _, err := b.Subscribe(ctx, c.add); err != nil {
				t.Fatalf("Subscribe: %v", err)
			}
			before, err := b.Publish(ctx, msg(0), msg(1), msg(2))
			if err != nil {
				t.Fatalf("Publish: %v", err)
			}
			waitFor(t, 5*time.Second, "3 deliveries", func() bool { return c.len() == 3 })
			epoch := b.Epoch()

			srv.kill()
			waitFor(t, 5*time.Second, "Ping to fail", func() bool { return b.Ping(ctx) != nil })
			start := time.Now()
			if _, err := b.Publish(ctx, msg(3)); !errors.Is(err, broker.ErrUnavailable) {
				t.Fatalf("Publish while NATS is down: got %v, want ErrUnavailable", err)
			}
			if d := time.Since(start); d > 1500*time.Millisecond {
				t.Errorf("Publish took %v to fail while NATS is down", d)
			}
			if err := b.Ping(ctx); !errors.Is(err, broker.ErrUnavailable) {
				t.Fatalf("Ping while NATS is down: got %v, want ErrUnavailable", err)
			}
			srv.start()

			waitFor(t, 15*time.Second, "Ping to succeed", func() bool { return b.Ping(ctx) == nil })
			after, err := b.Publish(ctx, msg(4), msg(5))
			if err != nil {
				t.Fatalf("Publish after the restart: %v", err)
			}
			waitFor(t, 15*time.Second, "5 deliveries", func() bool { return c.len() >= 5 })
			time.Sleep(100 * time.Millisecond)
			envs := c.all()
			want := append(append([]string(nil), before...), after...)
			if len(envs) != len(want) {
				t.Fatalf("got %d envelopes, want %d", len(envs), len(want))
			}
			for i, env := range envs {
				if env.ID != want[i] {
					t.Fatalf("envelope %d: got %q, want %q", i, env.ID, want[i])
				}
			}
			err = b.Replay(ctx, before[0], func(broker.Envelope) error { return nil })
			if !memory {
				if b.Epoch() != epoch || after[0] != broker.FormatID(epoch, 4) {
					t.Fatalf("after a restart with file storage: epoch %q, first id %q; want epoch %q, seq 4", b.Epoch(), after[0], epoch)
				}
				if err != nil {
					t.Fatalf("Replay after the restart: %v", err)
				}
			} else {
				if b.Epoch() == epoch || after[0] != broker.FormatID(b.Epoch(), 1) {
					t.Fatalf("after a restart with memory storage: epoch %q, first id %q; want a new epoch, seq 1", b.Epoch(), after[0])
				}
				if !errors.Is(err, broker.ErrUnknownEpoch) {
					t.Fatalf("Replay of an id of the lost log: got %v, want ErrUnknownEpoch", err)
				}
			}
		})
	}
}
