package brokertest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a server process of the test's own (a redis-server, a
// nats-server), so that the test can crash and restart it without
// disturbing the server other tests share.
type Server struct {
	t    *testing.T
	args []string
	port int
	cmd  *exec.Cmd
}

// StartServer starts the program bin with the arguments args returns for a
// free port of 127.0.0.1 and a fresh directory, waits until it listens,
// and kills it at cleanup. When bin is not installed the test is skipped
// loudly, or fails when CI is set.
func StartServer(t *testing.T, bin string, args func(port int, dir string) []string) *Server {
	t.Helper()
	path, err := exec.LookPath(bin)
	if err != nil {
		SkipUnlessCI(t, strings.ToUpper(bin)+" IS NOT INSTALLED: the restart tests need the binary")
	}
	s := &Server{t: t, port: freePort(t)}
	s.args = append([]string{path}, args(s.port, t.TempDir())...)
	s.Start()
	t.Cleanup(s.Kill)
	return s
}

// Addr returns the server's host:port.
func (s *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

// Start starts the server again after Kill, with the same arguments, and
// waits until it listens.
func (s *Server) Start() {
	s.t.Helper()
	s.cmd = exec.Command(s.args[0], s.args[1:]...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", s.args[0], err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr(), 100*time.Millisecond)
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

// Kill ends the process abruptly, as a crash would.
func (s *Server) Kill() {
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

// SkipUnlessCI skips the test loudly, saying msg (what is missing), or
// fails it when the environment variable CI is set, so that a missing
// server or program never passes unnoticed in CI.
func SkipUnlessCI(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip("!!! SKIPPED: " + msg + "; with CI set this fails")
}

// SharedServer is the server that the tests of a package share (the
// Redis, the NATS on localhost), located by an environment variable and
// checked once per test binary.
type SharedServer struct {
	// Name names it in the message of a skipped test: "REDIS".
	Name string
	// Env is the environment variable that overrides Default, the URL.
	Env, Default string
	// Need says in that message what needs it: "redisbroker tests need a
	// real Redis".
	Need string
	// Ping reports whether the server at url answers, within a few
	// seconds.
	Ping func(url string) error

	once sync.Once
	err  error
}

// URL returns the server's URL. When the server does not answer, the test
// is skipped loudly, or fails when CI is set (see SkipUnlessCI).
func (s *SharedServer) URL(t testing.TB) string {
	t.Helper()
	url := os.Getenv(s.Env)
	if url == "" {
		url = s.Default
	}
	s.once.Do(func() { s.err = s.Ping(url) })
	if s.err != nil {
		SkipUnlessCI(t, fmt.Sprintf("%s IS NOT REACHABLE AT %s (%v): %s", s.Name, url, s.err, s.Need))
	}
	return url
}
