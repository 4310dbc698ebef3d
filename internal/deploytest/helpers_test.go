package deploytest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// secret signs every token of the tests; ssehub gets it as --jwt-secret.
const secret = "deploytest-secret-deploytest-secret-0123"

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// lockedBuffer collects a child process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startProcess starts cmd in a process group of its own, stops it at
// cleanup (SIGTERM, then SIGKILL to the group: nginx's workers outlive a
// killed master) and waits for it, and logs its output when the test failed.
func startProcess(t testing.TB, name string, cmd *exec.Cmd) (out *lockedBuffer, exited <-chan struct{}) {
	t.Helper()
	out = &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		// SIGTERM first, so that nginx's master stops and reaps its workers
		// (orphans would stay zombies where init does not reap); then SIGKILL.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Errorf("%s (or a child holding its output) did not exit within 5s of SIGKILL", name)
			}
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
	return out, done
}

// waitHTTP polls url until it answers 200, the process exits, or timeout.
func waitHTTP(t testing.TB, c *http.Client, url string, exited <-chan struct{}, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-exited:
			t.Fatalf("process exited before %s answered", url)
		default:
		}
		if resp, err := c.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200 within %v", url, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// selfSigned writes a certificate and key for host and 127.0.0.1 into dir
// and returns their paths and the certificate for a client's root pool.
func selfSigned(t testing.TB, dir, host string) (certPath, keyPath string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: host},
		DNSNames:              []string{host},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "fullchain.pem"), filepath.Join(dir, "privkey.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath, cert
}

// replaceOnce replaces the one occurrence of old in s, and fails the test
// when there is not exactly one: a changed deploy file must not make the
// test silently run something else.
func replaceOnce(t testing.TB, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("rendering the nginx file: %q occurs %d times, want 1", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

// nginxBinary returns the nginx binary, or skips the test when there is
// none and CI is not "true" (in CI a missing nginx fails the test).
func nginxBinary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("nginx is not installed (CI=true: failing instead of skipping; .ci/run installs nginx-light)")
	}
	t.Skip("!!! SKIPPED: nginx is not installed; with CI=true this fails")
	return ""
}

// buildSSEHub builds cmd/ssehub into dir.
func buildSSEHub(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "ssehub")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/ssehub/ssehub/cmd/ssehub").CombinedOutput()
	if err != nil {
		t.Fatal(fmt.Errorf("go build ./cmd/ssehub: %v\n%s", err, out))
	}
	return bin
}
