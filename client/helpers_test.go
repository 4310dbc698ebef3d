package client_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/client"
	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/ssehttp"
)

var secret = []byte("client-test-secret-client-test-secret")

// env is a real hub behind a real HTTP server on a loopback port.
type env struct {
	t   *testing.T
	hub *hub.Hub
	srv *httptest.Server
}

// newEnv starts a server. standard serves streams on net/http's goroutines
// (so srv.CloseClientConnections reaches them) instead of the hub's writers.
func newEnv(t *testing.T, hc hub.Config, standard bool) *env {
	t.Helper()
	if hc.Logger == nil {
		hc.Logger = testLogger(t, slog.LevelWarn)
	}
	h, err := hub.New(hc)
	if err != nil {
		t.Fatalf("hub.New: %v", err)
	}
	jwt, err := auth.NewJWT(auth.JWTConfig{Secret: secret})
	if err != nil {
		t.Fatalf("auth.NewJWT: %v", err)
	}
	mux := http.NewServeMux()
	ssehttp.Mount(mux, ssehttp.Config{Hub: h, Authenticator: jwt, StandardStreams: standard})
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("hub.Shutdown: %v", err)
		}
		srv.Close()
		_ = jwt.Close()
	})
	return &env{t: t, hub: h, srv: srv}
}

func testLogger(t *testing.T, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: level}))
}

func mint(t *testing.T, c auth.Claims, ttl time.Duration) string {
	t.Helper()
	tok, err := auth.Mint(secret, c, ttl)
	if err != nil {
		t.Fatalf("auth.Mint: %v", err)
	}
	return tok
}

// staticToken is a Config.Token that always returns tok.
func staticToken(tok string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return tok, nil }
}

// fastBackoff keeps reconnects quick in tests.
func fastBackoff(int) time.Duration { return 5 * time.Millisecond }

// newClient is client.New with the test's defaults: the server's URL and
// HTTP client, a test logger and fastBackoff, unless cfg sets them.
func (e *env) newClient(cfg client.Config) *client.Client {
	e.t.Helper()
	if cfg.URL == "" {
		cfg.URL = e.srv.URL + ssehttp.PathStream
	}
	return newClient(e.t, cfg)
}

func newClient(t *testing.T, cfg client.Config) *client.Client {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t, slog.LevelDebug)
	}
	if cfg.Backoff == nil {
		cfg.Backoff = fastBackoff
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	return c
}

// runner is a Client.Run on its own goroutine.
type runner struct {
	t      *testing.T
	cancel context.CancelFunc
	errc   chan error
	once   sync.Once
	err    error
}

// start runs c until the test ends or stop is called.
func start(t *testing.T, c *client.Client) *runner {
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{t: t, cancel: cancel, errc: make(chan error, 1)}
	go func() { r.errc <- c.Run(ctx) }()
	t.Cleanup(func() { r.stop() })
	return r
}

// wait returns Run's error, failing the test if Run has not returned
// within timeout.
func (r *runner) wait(timeout time.Duration) error {
	r.t.Helper()
	select {
	case err := <-r.errc:
		r.once.Do(func() { r.err = err })
		r.cancel()
		return err
	case <-time.After(timeout):
		r.t.Fatalf("Run still running after %v", timeout)
		return nil
	}
}

// stop cancels Run and returns its error.
func (r *runner) stop() error {
	r.cancel()
	r.once.Do(func() { r.err = <-r.errc })
	return r.err
}

// waitFor polls cond until it holds, or fails the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recorder collects what a test's handlers and hooks see. Its methods are
// safe for concurrent use.
type recorder struct {
	mu     sync.Mutex
	ids    []string
	readys []client.Ready
	errs   []error
	resets []string
}

func (r *recorder) id(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, id)
}

func (r *recorder) onReady(rd client.Ready) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.readys = append(r.readys, rd)
}

func (r *recorder) onError(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

func (r *recorder) onReset(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resets = append(r.resets, reason)
}

func (r *recorder) gotIDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...)
}

func (r *recorder) readyCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.readys)
}

func (r *recorder) hasError(target error) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, err := range r.errs {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

func (r *recorder) errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}
