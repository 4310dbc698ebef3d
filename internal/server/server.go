// Package server is the ssehub binary: configuration, the broker chosen by
// URL, logging, the HTTP server and the token command. cmd/ssehub calls
// Main; tests call it too, in-process or as a built binary.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/catalog"
	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/internal/codegen"
	"github.com/ssehub/ssehub/ssehttp"
	"github.com/ssehub/ssehub/ssehttp/apidoc"
)

// usage lists every subcommand Main knows.
const usage = `usage: ssehub [command] [flags]

  ssehub serve [flags]    run the server (the default when no command is given)
  ssehub token [flags]    mint a token with the configured secret
  ssehub gen ts|python|openapi|asyncapi [flags]
                          generate TypeScript or Python types from an event catalog,
                          or the OpenAPI / AsyncAPI documents
  ssehub version          print the version

Run 'ssehub serve -h', 'ssehub token -h' or 'ssehub gen -h' for the flags.
`

// Main runs the ssehub command line and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "token":
			return tokenCmd(args[1:], stdout, stderr)
		case "gen":
			return codegen.Main(args[1:], stdout, stderr)
		case "serve":
			args = args[1:]
		case "help", "-h", "--help":
			fmt.Fprint(stdout, usage)
			return 0
		case "version":
			fmt.Fprintln(stdout, versionString())
			return 0
		}
	}
	cfg, err := Load("serve", args, os.Getenv, nil)
	if err == nil {
		err = checkEnviron(os.Environ())
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "ssehub: config:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, cfg, stdout, stderr, nil); err != nil {
		fmt.Fprintln(stderr, "ssehub:", err)
		return 1
	}
	return 0
}

// Version is set at build time with -ldflags "-X …/server.Version=v1.2.3".
var Version = "dev"

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLvl))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFmt == "json" {
		// Durations as seconds, a number any log pipeline can sum.
		opts.ReplaceAttr = func(_ []string, a slog.Attr) slog.Attr {
			if a.Value.Kind() == slog.KindDuration {
				return slog.Float64(a.Key, a.Value.Duration().Seconds())
			}
			return a
		}
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Run serves until ctx is done, then shuts down gracefully. When ready is
// not nil it receives the listening address once the server accepts
// connections.
func Run(ctx context.Context, cfg Config, stdout, stderr io.Writer, ready chan<- string) error {
	log := newLogger(cfg, stderr)
	dev := cfg.Dev || cfg.keyless()
	generated := cfg.keyless()
	cfg.logEffective(log, dev) // before the generated secret: only configured values
	if cfg.keyless() {
		secret := make([]byte, 32)
		_, _ = rand.Read(secret)
		cfg.JWTSecret = hex.EncodeToString(secret)
	}
	authn, err := newAuthenticator(cfg, log)
	if err != nil {
		return err
	}
	defer authn.Close()

	if cfg.NodeID == "" {
		// One id for the hub and the broker, so logs and Redis/NATS
		// client names agree.
		cfg.NodeID = randomNodeID()
	}
	b, err := openBroker(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer b.Close()
	limits, _ := cfg.rateLimits() // checked by validate
	var cat *catalog.Catalog
	if cfg.Catalog != "" {
		if cat, err = catalog.LoadFile(cfg.Catalog); err != nil {
			return err
		}
		cat.AllowUnknown = cat.AllowUnknown || cfg.AllowUnknown
		for name, r := range cat.RateLimitRules() {
			limits[name] = r // the catalog's limits win over --rate-limits
		}
	}
	// The API documents, with the catalog's schemas folded in.
	mux := http.NewServeMux()
	var catalogSchema []byte
	if cat != nil {
		if catalogSchema, err = cat.JSONSchema(); err != nil {
			return err
		}
	}
	if err := apidoc.Mount(mux, catalogSchema); err != nil {
		return err
	}
	ops := newOps(cfg, cat)
	userPolicy, _ := hub.ParsePolicy(cfg.UserLimitPolicy)
	totalPolicy, _ := hub.ParsePolicy(cfg.TotalLimitPolicy)
	var schema func(context.Context, string, string, json.RawMessage) (json.RawMessage, error)
	if cat != nil {
		schema = cat.Check
	}
	h, err := hub.New(hub.Config{
		Broker: b, NodeID: cfg.NodeID, Schema: schema,
		MaxConnsPerUser: cfg.MaxConnsPerUser, UserLimitPolicy: userPolicy,
		MaxConns: cfg.MaxConns, TotalLimitPolicy: totalPolicy,
		Heartbeat: cfg.Heartbeat, Retry: cfg.Retry, WriteTimeout: cfg.WriteTimeout,
		InactivityTimeout: cfg.InactivityTimeout, SweepInterval: cfg.SweepInterval,
		QueueSize: cfg.QueueSize, QueueBytes: cfg.QueueBytes, NodeQueueBytes: cfg.NodeQueueBytes, Writers: cfg.Writers, MaxConnAge: cfg.MaxConnAge, MaxPayload: cfg.MaxPayload,
		RateLimits: limits, IdempotencyWindow: cfg.IdempotencyWindow, MaxIdempotencyKeys: cfg.IdempotencyKeys, PresenceInterval: cfg.PresenceInterval,
		Observer: ops.observer(), Logger: log, ClusterKey: []byte(cfg.ClusterKey),
	})
	if err != nil {
		return err
	}
	sc := ssehttp.Config{
		Hub: h, Authenticator: authn, MaxBodyBytes: cfg.MaxBody, MaxBatch: cfg.MaxBatch,
		PublisherRate: cfg.PublisherRate, SendBuffer: cfg.SendBuffer, Logger: log,
	}
	if cat != nil {
		mux.Handle("GET /api/events/schema", cat)
	}
	ssehttp.Mount(mux, sc)
	if dev {
		mountDemo(ctx, mux, cfg, h, log)
	}
	// Requests that are not streams are bounded in time (head, body,
	// idle) and in number (max-request-conns); see docs/security.md.
	caps := newConnCap(cfg.MaxRequestConns)
	origins, _ := ssehttp.ParseOrigins(cfg.CORSOrigins) // checked by validate
	var handler http.Handler = ssehttp.NewRequestGuard(ssehttp.GuardConfig{
		BodyTimeout: cfg.BodyTimeout, MaxBodyBytes: cfg.MaxBody,
		CookieName: option(cfg.CookieName, "ssehub_token"), Origins: origins, QueryParam: "access_token",
	}, ops.handler(h, sc, mux, log))
	trusted, _ := parsePrefixes(cfg.TrustedProxies) // checked by validate
	handler = newRefusals(log, trusted).wrap(handler)
	srv := &http.Server{
		Handler:           caps.wrap(ssehttp.IsStreamRequest, handler),
		ReadHeaderTimeout: cfg.HeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ConnState:         caps.connState,
		ConnContext:       caps.connContext,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		// No ReadTimeout or WriteTimeout: streams are long; the guard sets
		// a body deadline on other requests, the hub one on every write.
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err == nil {
		err = configureTLS(cfg, srv, log)
	}
	if err == nil {
		err = ops.listen(log)
	}
	if err != nil {
		if ln != nil {
			_ = ln.Close()
		}
		_ = h.Shutdown(context.Background())
		return err
	}
	defer ops.shutdown()
	addr := ln.Addr().String()
	log.Info("ssehub listening", "addr", addr, "node_id", h.NodeID(), "broker", redact(cfg.Broker), "dev", dev, "tls", srv.TLSConfig != nil, "h2c", cfg.H2C)
	if dev {
		printDevHelp(stdout, cfg, addr, generated, srv.TLSConfig != nil)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- serve(srv, ln) }()
	if ready != nil {
		ready <- addr
	}
	select {
	case err := <-serveErr:
		_ = h.Shutdown(context.Background())
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.Timeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	// The hub ends the streams (sse:shutdown) while the HTTP server stops
	// accepting and waits for the handlers to return.
	hubDone := make(chan error, 1)
	go func() { hubDone <- h.Shutdown(sctx) }()
	srvErr := srv.Shutdown(sctx)
	hubErr := <-hubDone
	if srvErr != nil {
		_ = srv.Close()
	}
	log.Info("stopped", "hub_err", hubErr, "http_err", srvErr)
	return errors.Join(hubErr, ignoreClosed(srvErr))
}

// option returns v, def when v is empty, and "" when v is "-", as
// auth.JWTConfig reads CookieName.
func option(v, def string) string {
	if v == "-" {
		return ""
	}
	if v == "" {
		return def
	}
	return v
}

func randomNodeID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

type closingAuthenticator interface {
	auth.Authenticator
	Close() error
}

func newAuthenticator(cfg Config, log *slog.Logger) (closingAuthenticator, error) {
	jc := auth.JWTConfig{
		TenantClaim: cfg.TenantClaim, DefaultTenant: cfg.DefaultTenant, CookieName: cfg.CookieName,
		Issuer: cfg.Issuer, Audience: cfg.Audience, JWKSURL: cfg.JWKSURL, Leeway: cfg.Leeway, Logger: log,
	}
	if cfg.JWTSecret != "" {
		jc.Secret = []byte(cfg.JWTSecret)
	}
	if cfg.JWTPublicKey != "" {
		pem, err := os.ReadFile(cfg.JWTPublicKey)
		if err != nil {
			return nil, fmt.Errorf("jwt-public-key: %w", err)
		}
		jc.PublicKeysPEM = pem
	}
	return auth.NewJWT(jc)
}

// openBroker opens the broker named by cfg.Broker.
func openBroker(ctx context.Context, cfg Config, log *slog.Logger) (broker.Broker, error) {
	u, err := url.Parse(cfg.Broker)
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	switch u.Scheme {
	case "memory", "":
		return broker.NewMemory(broker.MemoryConfig{HistorySize: historySize(cfg.HistorySize), HistoryAge: cfg.HistoryAge, HistoryBytes: cfg.HistoryBytes, IdempotencyWindow: cfg.IdempotencyWindow}), nil
	}
	if open := brokerOpeners[u.Scheme]; open != nil {
		return open(ctx, cfg, log)
	}
	return nil, fmt.Errorf("broker: unknown scheme %q (want memory://, redis:// or nats://)", u.Scheme)
}

// brokerOpeners holds the cluster brokers by URL scheme.
var brokerOpeners = map[string]func(context.Context, Config, *slog.Logger) (broker.Broker, error){}

func historySize(n int) int {
	if n == 0 {
		return -1 // the config's 0 means none; the broker's 0 means default
	}
	return n
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

func printDevHelp(w io.Writer, cfg Config, addr string, generated, tls bool) {
	mint := func(c auth.Claims) string {
		tok, err := auth.Mint([]byte(cfg.JWTSecret), auth.Claims{
			Subject: c.Subject, TenantID: c.TenantID, Channels: c.Channels, Roles: c.Roles, Global: c.Global, TenantClaim: cfg.TenantClaim,
		}, 24*time.Hour)
		if err != nil {
			return "(" + err.Error() + ")"
		}
		return tok
	}
	base := "http://" + addr
	if tls {
		base = "https://" + addr
	}
	secret := "a random signing secret was generated for this run\n(set --jwt-secret or SSEHUB_JWT_SECRET to keep tokens across restarts)."
	if !generated {
		secret = "tokens are signed with the configured --jwt-secret."
	}
	alice := mint(auth.Claims{Subject: "alice", TenantID: "acme", Channels: []string{"*"}})
	bob := mint(auth.Claims{Subject: "bob", TenantID: "globex", Channels: []string{"*"}})
	pub := mint(auth.Claims{Subject: "backend", Roles: []string{auth.RoleAdmin}, Global: true})
	fmt.Fprintf(w, `
ssehub dev mode: %s
Demo tokens are valid for 24 hours.

  Demo app:   %s/
  Dashboard:  %s/dashboard

  # alice (tenant acme) listens:
  curl -N -H 'Authorization: Bearer %s' '%s/api/sse?channels=conversation:1'

  # bob (tenant globex) listens:
  curl -N -H 'Authorization: Bearer %s' '%s/api/sse'

  # the backend (admin publisher) sends alice a notification:
  curl -X POST -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \
    -d '{"event":"notification:new","tenantId":"acme","target":{"userId":"alice"},"data":{"title":"Hello"}}' \
    %s/api/events

`, secret, base, base, alice, base, bob, base, pub, base)
	if !strings.HasPrefix(addr, "127.") && !strings.HasPrefix(addr, "[::1]") && !strings.HasPrefix(addr, "localhost") {
		fmt.Fprintln(w, "WARNING: dev mode is listening on a non-loopback address.")
	}
}
