package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ssehub/ssehub/catalog"
	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/metrics"
	"github.com/ssehub/ssehub/ssehttp"
)

// opsSettings are the settings for running ssehub in production: TLS,
// CORS and metrics. They follow the others in the reference.
func (c *Config) opsSettings() []setting {
	return []setting{
		{"tls-cert", "PEM certificate (chain) file: serve HTTPS and HTTP/2; reloaded when it changes", (*stringValue)(&c.TLSCert)},
		{"tls-key", "PEM private key file of --tls-cert", (*stringValue)(&c.TLSKey)},
		{"h2c", "also serve cleartext HTTP/2 (prior knowledge), for a proxy that speaks h2c to ssehub", (*boolValue)(&c.H2C)},
		{"cors-origins", "origins that may stream, publish and change subscriptions from a browser: https://a.example,https://b.example, or * (no credentials)", (*stringValue)(&c.CORSOrigins)},
		{"metrics", "serve Prometheus metrics at GET /metrics", (*boolValue)(&c.Metrics)},
		{"metrics-addr", "serve /metrics on this address instead of --addr, off the public listener", (*stringValue)(&c.MetricsAddr)},
		{"metrics-tenants", "tenants that always get their own tenant label in ssehub_connections, comma-separated", (*stringValue)(&c.MetricsTenants)},
		{"metrics-top-tenants", "how many other tenants, the busiest, get their own tenant label; the rest are \"other\" (0: none)", (*intValue)(&c.MetricsTopTenants)},
		{"metrics-max-events", "event names with their own event label besides the catalog's, first seen first; later ones are \"other\" (0: none)", (*intValue)(&c.MetricsMaxEvents)},
	}
}

// trackedBool is a bool setting that remembers whether a source set it.
type trackedBool struct{ v, set *bool }

func (b *trackedBool) String() string {
	if b.v == nil {
		return "false"
	}
	return strconv.FormatBool(*b.v)
}

func (b *trackedBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("not true or false: %q", s)
	}
	*b.v, *b.set = v, true
	return nil
}

func (b *trackedBool) IsBoolFlag() bool { return true }

// opsErrors validates the operations settings, the listen address, and
// dev mode against the key settings.
func (c *Config) opsErrors() []error {
	var errs []error
	if c.devSet && !c.Dev && c.keyless() {
		errs = append(errs, errors.New("dev: false, but no key is configured: set --jwt-secret, --jwt-public-key or --jwks-url (dev mode generates a secret only when --dev is not false)"))
	}
	if (c.Dev || c.keyless()) && c.Addr != "" && !loopback(c.Addr) {
		why := "--dev is set"
		if c.keyless() {
			why = "no key is configured, which means dev mode"
		}
		errs = append(errs, fmt.Errorf("addr: %s is not a loopback address and %s: set SSEHUB_JWT_SECRET (--jwt-secret), SSEHUB_JWT_PUBLIC_KEY or SSEHUB_JWKS_URL; dev mode (a generated secret, demo sign-in) listens only on 127.0.0.1, ::1 or localhost", c.Addr, why))
	}
	switch {
	case (c.TLSCert == "") != (c.TLSKey == ""):
		errs = append(errs, errors.New("tls-cert/tls-key: set both or neither"))
	case c.TLSCert != "":
		if _, err := loadKeyPair(c.TLSCert, c.TLSKey); err != nil {
			errs = append(errs, err)
		}
		if c.H2C {
			errs = append(errs, errors.New("h2c: cleartext HTTP/2 is for serving without TLS; with --tls-cert, HTTP/2 is negotiated over TLS already"))
		}
	}
	if c.Addr != "" {
		if _, _, err := net.SplitHostPort(c.Addr); err != nil {
			errs = append(errs, fmt.Errorf("addr: %v (want host:port, like 0.0.0.0:8080)", err))
		}
	}
	if _, err := ssehttp.ParseOrigins(c.CORSOrigins); err != nil {
		errs = append(errs, fmt.Errorf("cors-origins: %v", err))
	}
	if c.MetricsAddr != "" {
		switch {
		case !c.Metrics:
			errs = append(errs, errors.New("metrics-addr: set, but --metrics is false"))
		case c.MetricsAddr == c.Addr:
			errs = append(errs, errors.New("metrics-addr: the same as --addr; leave it empty to serve /metrics there"))
		default:
			if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
				errs = append(errs, fmt.Errorf("metrics-addr: %v", err))
			}
		}
	}
	for _, t := range split(c.MetricsTenants) {
		if err := hub.ValidateTenant(t); err != nil {
			errs = append(errs, fmt.Errorf("metrics-tenants: %v", err))
		}
	}
	return errs
}

// ops is what Run adds for operations: metrics (the hub's observer, the
// registry, the response counter and maybe their own listener), the admin
// connections endpoint and CORS.
type ops struct {
	cfg  Config
	obs  *metrics.Observer
	reg  *prometheus.Registry
	http *metrics.HTTP
	srv  *http.Server // --metrics-addr
}

func newOps(cfg Config, cat *catalog.Catalog) *ops {
	o := &ops{cfg: cfg}
	if !cfg.Metrics {
		return o
	}
	mc := metrics.Config{Tenants: split(cfg.MetricsTenants), TopTenants: cfg.MetricsTopTenants, MaxEvents: cfg.MetricsMaxEvents}
	if cfg.MetricsTopTenants == 0 {
		mc.TopTenants = -1 // the setting's 0 means none; the package's 0 means default
	}
	if cfg.MetricsMaxEvents == 0 {
		mc.MaxEvents = -1
	}
	if cat != nil {
		for _, ev := range cat.Events() {
			mc.Events = append(mc.Events, ev.Name)
		}
	}
	o.obs = metrics.New(mc)
	o.http = metrics.NewHTTP()
	o.reg = prometheus.NewRegistry()
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "ssehub", Name: "build_info", Help: "The running build: version, VCS revision, Go version.",
		ConstLabels: prometheus.Labels{"version": Version, "revision": vcsRevision(), "go_version": runtime.Version()},
	})
	build.Set(1)
	o.reg.MustRegister(o.obs, o.http, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return o
}

// observer returns the hub's observer: none when metrics are off.
func (o *ops) observer() hub.Observer {
	if o.obs == nil {
		return nil
	}
	return o.obs
}

// handler mounts the admin connections endpoint and, unless it has its own
// listener, /metrics on mux, and returns mux with CORS on the browser
// endpoints and responses counted.
func (o *ops) handler(h *hub.Hub, sc ssehttp.Config, mux *http.ServeMux, log *slog.Logger) http.Handler {
	origins, _ := ssehttp.ParseOrigins(o.cfg.CORSOrigins) // checked by validate
	var handler http.Handler = ssehttp.NewCORSHandler(ssehttp.CORSConfig{
		Origins: origins,
		Paths:   []string{ssehttp.PathStream, ssehttp.PathPublish, ssehttp.PathSubscriptions},
	}, mux)
	if o.reg == nil {
		return handler
	}
	o.reg.MustRegister(metrics.NewHubCollector(h, 0))
	mh := promhttp.HandlerFor(o.reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn), Registry: o.reg,
	})
	if o.cfg.MetricsAddr == "" {
		mux.Handle("GET /metrics", mh)
	} else {
		m := http.NewServeMux()
		m.Handle("GET /metrics", mh)
		o.srv = &http.Server{Handler: m, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	}
	return o.http.Wrap(handler)
}

// listen starts the metrics listener of --metrics-addr, if any.
func (o *ops) listen(log *slog.Logger) error {
	if o.srv == nil {
		return nil
	}
	ln, err := net.Listen("tcp", o.cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("metrics-addr: %w", err)
	}
	log.Info("metrics listening", "addr", ln.Addr().String())
	go func() {
		if err := o.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener failed", "err", err)
		}
	}()
	return nil
}

// shutdown stops the metrics listener, if any, once the server has
// stopped: scrapes keep working while it drains.
func (o *ops) shutdown() {
	if o.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if o.srv.Shutdown(ctx) != nil {
			_ = o.srv.Close()
		}
	}
}

// vcsRevision returns the VCS revision the binary was built from, with
// "-modified" when the tree had changes, or "" when unknown.
func vcsRevision() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	rev, modified := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" && modified {
		rev += "-modified"
	}
	return rev
}

// versionString is what `ssehub version` prints: the version (set with
// -ldflags, or the module version of `go install …@v1.2.3`), then the VCS
// revision and time, and the Go version.
func versionString() string {
	v := Version
	var parts []string
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		if rev := vcsRevision(); rev != "" {
			parts = append(parts, "revision "+rev)
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.time" {
				parts = append(parts, "committed "+s.Value)
			}
		}
	}
	parts = append(parts, runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH)
	return "ssehub " + v + " (" + strings.Join(parts, ", ") + ")"
}
