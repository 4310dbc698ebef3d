package clustertest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ssehub/ssehub/auth"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		if binDir != "" {
			_ = os.RemoveAll(binDir)
		}
		os.Exit(code)
	}))
}

// secret signs every token of the tests; the nodes get it as --jwt-secret.
const secret = "clustertest-secret-clustertest-secret-0123"

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// binary builds cmd/ssehub once per test run, without the race detector:
// the nodes are separate processes and should run at production speed.
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "ssehub-clustertest")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "ssehub")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/ssehub/ssehub/cmd/ssehub").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/ssehub: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// inCI reports whether the tests run in CI, where a missing engine is a
// failure, not a skip.
func inCI() bool { return os.Getenv("CI") != "" }

// unavailable skips the test loudly, or fails it in CI.
func unavailable(t testing.TB, msg string) {
	t.Helper()
	if inCI() {
		t.Fatal(msg + " (CI is set: failing instead of skipping)")
	}
	t.Skip("!!! SKIPPED: " + msg + "; with CI set this fails")
}

// token mints a token for the nodes' secret, as `ssehub token` does.
func token(t testing.TB, c auth.Claims) string {
	t.Helper()
	tok, err := auth.Mint([]byte(secret), c, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func userToken(t testing.TB, tenant, user string) string {
	return token(t, auth.Claims{Subject: user, TenantID: tenant, Channels: []string{"room:*"}})
}

func publisherToken(t testing.TB, tenant string) string {
	return token(t, auth.Claims{Subject: "backend-" + tenant, TenantID: tenant, Roles: []string{auth.RolePublisher}})
}

func adminToken(t testing.TB) string {
	return token(t, auth.Claims{Subject: "ops", Roles: []string{auth.RoleAdmin}, Global: true})
}

// httpClient returns a client with its own transport, whose idle
// connections are closed at cleanup.
func httpClient(t testing.TB) *http.Client {
	tr := &http.Transport{
		MaxIdleConnsPerHost:   64,
		ResponseHeaderTimeout: 10 * time.Second,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// freePort returns a port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	p, err := pickPort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func pickPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitFor polls cond every few milliseconds until it holds, and fails the
// test when it does not within timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll(timeout, cond) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// poll reports whether cond held within timeout.
func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// authClaims returns the claims of a user token that allows channels.
func authClaims(tenant, user string, channels ...string) auth.Claims {
	return auth.Claims{Subject: user, TenantID: tenant, Channels: channels}
}
