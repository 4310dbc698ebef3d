package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/internal/server"
	"github.com/ssehub/ssehub/sse"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and localhost
// and its key to dir, and returns their paths and a pool trusting it.
func selfSigned(t *testing.T, dir, name string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// syncBuffer collects a server's log output.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// run starts server.Run with cfg on a loopback port and returns its
// address; the server stops when the test ends.
func run(t *testing.T, cfg server.Config, logs io.Writer) string {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.JWTSecret == "" {
		cfg.JWTSecret = secret
	}
	if logs == nil {
		logs = t.Output()
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, cfg, io.Discard, logs, ready) }()
	select {
	case addr := <-ready:
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
		return addr
	case err := <-done:
		cancel()
		t.Fatalf("Run: %v", err)
	}
	return ""
}

func mintToken(t *testing.T, c auth.Claims) string {
	t.Helper()
	tok, err := auth.Mint([]byte(secret), c, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// streamOver opens /api/sse with client and returns the response after
// checking sse:ready, and a channel of the events that follow.
func streamOver(t *testing.T, client *http.Client, base, tok string) (*http.Response, <-chan sse.Event) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/sse", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET /api/sse: %v", err)
	}
	if resp.StatusCode != 200 {
		cancel()
		t.Fatalf("GET /api/sse: got %d, want 200", resp.StatusCode)
	}
	events := make(chan sse.Event, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(events)
		for ev, err := range sse.NewDecoder(resp.Body).Events() {
			if err != nil {
				return
			}
			if ev.Name != "" {
				events <- ev
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		resp.Body.Close()
	})
	select {
	case ev := <-events:
		if ev.Name != "sse:ready" {
			t.Fatalf("first event %q, want sse:ready", ev.Name)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no sse:ready within 5s")
	}
	return resp, events
}

func publishOver(t *testing.T, client *http.Client, base, tok, body string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/events", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("publish: got %d, want 202", resp.StatusCode)
	}
}

// countingDialer counts the TCP connections a client opens.
type countingDialer struct {
	n atomic.Int32
	d net.Dialer
}

func (c *countingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c.n.Add(1)
	return c.d.DialContext(ctx, network, addr)
}

// streamsShareOneConnection opens several streams and a publish over
// client, checks each came over HTTP/2 on a single TCP connection and
// received every event.
func streamsShareOneConnection(t *testing.T, client *http.Client, dialer *countingDialer, base string) {
	t.Helper()
	const streams, events = 6, 3
	var chans []<-chan sse.Event
	for i := range streams {
		resp, ch := streamOver(t, client, base, mintToken(t, auth.Claims{Subject: fmt.Sprintf("u%d", i), TenantID: "t1"}))
		if resp.ProtoMajor != 2 {
			t.Fatalf("stream %d: got %s, want HTTP/2", i, resp.Proto)
		}
		chans = append(chans, ch)
	}
	pub := mintToken(t, auth.Claims{Subject: "backend", TenantID: "t1", Roles: []string{auth.RolePublisher}})
	for i := range events {
		publishOver(t, client, base, pub, fmt.Sprintf(`{"event":"tick","target":{"tenantId":"t1"},"data":{"i":%d}}`, i))
	}
	for s, ch := range chans {
		for i := range events {
			select {
			case ev := <-ch:
				if ev.Name != "tick" || ev.Data != fmt.Sprintf(`{"i":%d}`, i) {
					t.Fatalf("stream %d event %d: got %s %s", s, i, ev.Name, ev.Data)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("stream %d: event %d did not arrive", s, i)
			}
		}
	}
	if n := dialer.n.Load(); n != 1 {
		t.Errorf("%d TCP connections for %d streams and %d publishes, want 1 (HTTP/2 multiplexing)", n, streams, events)
	}
}

func TestTLSAndHTTP2(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir(), "ssehub-test")
	cfg := server.Defaults()
	cfg.TLSCert, cfg.TLSKey = certFile, keyFile
	cfg.LogLvl = "warn"
	addr := run(t, cfg, nil)
	base := "https://" + addr

	dialer := &countingDialer{}
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		DialContext:       dialer.DialContext,
		ForceAttemptHTTP2: true,
	}
	defer tr.CloseIdleConnections()
	streamsShareOneConnection(t, &http.Client{Transport: tr}, dialer, base)

	// HTTP/1.1 over TLS still works, for clients and proxies without h2.
	tr1 := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}
	defer tr1.CloseIdleConnections()
	resp, _ := streamOver(t, &http.Client{Transport: tr1}, base, mintToken(t, auth.Claims{Subject: "h1", TenantID: "t1"}))
	if resp.ProtoMajor != 1 || resp.Header.Get("Connection") != "keep-alive" {
		t.Errorf("HTTP/1.1 over TLS: got %s with Connection %q, want HTTP/1.1 keep-alive", resp.Proto, resp.Header.Get("Connection"))
	}
	// Plain HTTP on the TLS port is refused.
	if r, err := http.Get("http://" + addr + "/healthz"); err == nil {
		r.Body.Close()
		if r.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP to the TLS port: got %d, want 400", r.StatusCode)
		}
	}
}

func TestH2C(t *testing.T) {
	cfg := server.Defaults()
	cfg.H2C = true
	cfg.LogLvl = "warn"
	addr := run(t, cfg, nil)
	base := "http://" + addr

	dialer := &countingDialer{}
	tr := &http.Transport{DialContext: dialer.DialContext, Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	streamsShareOneConnection(t, &http.Client{Transport: tr}, dialer, base)

	// HTTP/1.1 clients keep working on the same port.
	resp, _ := streamOver(t, http.DefaultClient, base, mintToken(t, auth.Claims{Subject: "h1", TenantID: "t1"}))
	if resp.ProtoMajor != 1 {
		t.Errorf("HTTP/1.1 client: got %s", resp.Proto)
	}
}

func TestTLSConfigErrors(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := selfSigned(t, dir, "a")
	otherCert, _, _ := selfSigned(t, dir, "b")
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"cert without key", []string{"--tls-cert", certFile}, "tls-cert/tls-key: set both or neither"},
		{"key without cert", []string{"--tls-key", keyFile}, "tls-cert/tls-key: set both or neither"},
		{"missing file", []string{"--tls-cert", filepath.Join(dir, "nope.crt"), "--tls-key", keyFile}, "no such file"},
		{"not PEM", []string{"--tls-cert", garbage, "--tls-key", keyFile}, "tls-cert/tls-key"},
		{"key of another cert", []string{"--tls-cert", otherCert, "--tls-key", keyFile}, "private key does not match"},
		{"h2c with TLS", []string{"--tls-cert", certFile, "--tls-key", keyFile, "--h2c"}, "h2c:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := server.Load("serve", append([]string{"--jwt-secret", secret}, tc.args...), func(string) string { return "" }, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := server.Load("serve", []string{"--jwt-secret", secret, "--tls-cert", certFile, "--tls-key", keyFile}, func(string) string { return "" }, nil); err != nil {
		t.Fatalf("a good pair: %v", err)
	}
}

// TestTLSCertificateReload replaces the certificate files under a running
// server, as certbot or cert-manager do, and checks new handshakes get the
// new certificate.
func TestTLSCertificateReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir, "first")
	cfg := server.Defaults()
	cfg.TLSCert, cfg.TLSKey = certFile, keyFile
	cfg.LogLvl = "warn"
	addr := run(t, cfg, nil)
	served := func(pool *x509.CertPool) string {
		t.Helper()
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "localhost"})
		if err != nil {
			return "error: " + err.Error()
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if got := served(pool); got != "first" {
		t.Fatalf("got %q, want the first certificate", got)
	}
	newCert, newKey, pool2 := selfSigned(t, t.TempDir(), "second")
	for _, f := range [][2]string{{newCert, certFile}, {newKey, keyFile}} {
		b, err := os.ReadFile(f[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f[1]+".tmp", b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(f[1]+".tmp", f[1]); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for served(pool2) != "second" {
		if time.Now().After(deadline) {
			t.Fatalf("still %q after replacing the files, want the second certificate", served(pool2))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
