package server

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/ratelimit"
	"go.yaml.in/yaml/v3"
)

// Config is everything the ssehub binary can be told. Each field is one
// setting with one flag (--name), one environment variable (SSEHUB_NAME)
// and one config-file key (name). Later sources win: defaults, then the
// file, then the environment, then flags.
type Config struct {
	Addr    string
	Dev     bool
	Broker  string
	NodeID  string
	LogFmt  string
	LogLvl  string
	Config  string
	Timeout time.Duration // graceful shutdown

	JWTSecret     string
	JWTPublicKey  string // path to a PEM file
	JWKSURL       string
	TenantClaim   string
	DefaultTenant string
	CookieName    string
	Issuer        string
	Audience      string

	MaxConnsPerUser   int
	UserLimitPolicy   string
	MaxConns          int
	TotalLimitPolicy  string
	Heartbeat         time.Duration
	Retry             time.Duration
	WriteTimeout      time.Duration
	InactivityTimeout time.Duration
	SweepInterval     time.Duration
	QueueSize         int
	QueueBytes        int
	NodeQueueBytes    int64
	SendBuffer        int
	Writers           int
	MaxConnAge        time.Duration
	MaxPayload        int
	MaxBody           int64
	MaxBatch          int
	HistorySize       int
	HistoryAge        time.Duration
	HistoryBytes      int64
	PresenceInterval  time.Duration
	RateLimits        string
	Catalog           string
	AllowUnknown      bool
	PublisherRate     float64
	IdempotencyWindow time.Duration
	IdempotencyKeys   int

	// Operations: see ops.go and tls.go.
	TLSCert           string
	TLSKey            string
	H2C               bool
	CORSOrigins       string
	Metrics           bool
	MetricsAddr       string
	MetricsTenants    string
	MetricsTopTenants int
	MetricsMaxEvents  int

	devSet bool // some source set dev explicitly
}

// setting is one configurable value.
type setting struct {
	name  string
	usage string
	value flag.Value
}

func (c *Config) settings() []setting {
	return append([]setting{
		{"addr", "listen address", (*stringValue)(&c.Addr)},
		{"dev", "dev mode: a generated secret and demo tokens (default when no key is configured; false without a key is an error)", &trackedBool{&c.Dev, &c.devSet}},
		{"broker", "broker URL: memory://, redis://host:port/db or nats://host:port", (*stringValue)(&c.Broker)},
		{"node-id", "this node's id (default random)", (*stringValue)(&c.NodeID)},
		{"log-format", "log format: text or json", (*stringValue)(&c.LogFmt)},
		{"log-level", "log level: debug, info, warn or error", (*stringValue)(&c.LogLvl)},
		{"config", "config file (YAML; keys are the flag names)", (*stringValue)(&c.Config)},
		{"shutdown-timeout", "how long a graceful shutdown may take", (*durationValue)(&c.Timeout)},

		{"jwt-secret", "HS256 secret (at least 32 bytes)", (*stringValue)(&c.JWTSecret)},
		{"jwt-public-key", "PEM file of RS256/ES256 public keys", (*stringValue)(&c.JWTPublicKey)},
		{"jwks-url", "JWK Set URL", (*stringValue)(&c.JWKSURL)},
		{"tenant-claim", "JWT claim holding the tenant id", (*stringValue)(&c.TenantClaim)},
		{"default-tenant", "tenant of tokens without the tenant claim", (*stringValue)(&c.DefaultTenant)},
		{"cookie-name", "cookie holding the token (\"-\" disables)", (*stringValue)(&c.CookieName)},
		{"jwt-issuer", "required JWT iss", (*stringValue)(&c.Issuer)},
		{"jwt-audience", "required JWT aud", (*stringValue)(&c.Audience)},

		{"max-conns-per-user", "connections per user and tenant (negative: no limit)", (*intValue)(&c.MaxConnsPerUser)},
		{"user-limit-policy", "at the per-user limit: evict (oldest) or reject", (*stringValue)(&c.UserLimitPolicy)},
		{"max-conns", "connections per node (negative: no limit)", (*intValue)(&c.MaxConns)},
		{"total-limit-policy", "at the node limit: reject or evict (oldest)", (*stringValue)(&c.TotalLimitPolicy)},
		{"heartbeat", "heartbeat interval", (*durationValue)(&c.Heartbeat)},
		{"retry", "reconnection delay sent to clients", (*durationValue)(&c.Retry)},
		{"write-timeout", "deadline of each write to a client", (*durationValue)(&c.WriteTimeout)},
		{"inactivity-timeout", "close connections without a successful write for this long", (*durationValue)(&c.InactivityTimeout)},
		{"sweep-interval", "how often inactive connections are closed", (*durationValue)(&c.SweepInterval)},
		{"queue-size", "events that may wait for one connection", (*intValue)(&c.QueueSize)},
		{"queue-bytes", "bytes of events that may wait for one connection (at least max-payload); past it, or past queue-size, the client is closed as a slow consumer and resumes", (*intValue)(&c.QueueBytes)},
		{"node-queue-bytes", "bytes that may wait in all of this node's queues; past it the connections furthest behind are closed as slow consumers", (*int64Value)(&c.NodeQueueBytes)},
		{"send-buffer", "kernel send buffer of each plain HTTP/1.1 stream's socket in bytes, which the kernel doubles (0: the kernel sizes it, up to net.ipv4.tcp_wmem's maximum, about 4 MB per stalled client)", (*intValue)(&c.SendBuffer)},
		{"writers", "goroutines writing the streams (0: GOMAXPROCS, at least 2); more favour fan-out speed on a shared machine over answering publishes during a fan-out", (*intValue)(&c.Writers)},
		{"max-conn-age", "close (and let resume) connections older than this; 0: never", (*durationValue)(&c.MaxConnAge)},
		{"max-payload", "largest event data in bytes", (*intValue)(&c.MaxPayload)},
		{"max-body", "largest publish request body in bytes", (*int64Value)(&c.MaxBody)},
		{"max-batch", "most events in one publish request", (*intValue)(&c.MaxBatch)},
		{"history-size", "events kept for resume", (*intValue)(&c.HistorySize)},
		{"presence-interval", "how often cluster nodes announce themselves; per-user limits across nodes apply one interval late", (*durationValue)(&c.PresenceInterval)},
		{"history-age", "how long events are kept for resume", (*durationValue)(&c.HistoryAge)},
		{"history-bytes", "bytes of events kept for resume (memory broker; the NATS stream's MaxBytes; not applied on Redis); 0: no byte bound", (*int64Value)(&c.HistoryBytes)},
		{"catalog", "event catalog file (YAML or JSON): payload schemas, sanitizing, rate limits, targets; served at GET /api/events/schema", (*stringValue)(&c.Catalog)},
		{"allow-unknown-events", "with --catalog: accept events the catalog does not name, unvalidated", (*boolValue)(&c.AllowUnknown)},
		{"rate-limits", "per event and target: name=interval:drop|coalesce[:by],… where by is a payload field that splits the limit, e.g. per sender (\"none\" for none)", (*stringValue)(&c.RateLimits)},
		{"publisher-rate", "publish requests per second per publisher (negative: no limit)", (*floatValue)(&c.PublisherRate)},
		{"idempotency-window", "how long idempotency keys are remembered (by the engine; NATS caps it at --history-age)", (*durationValue)(&c.IdempotencyWindow)},
		{"idempotency-max-keys", "keyed events per tenant per idempotency window on each node; beyond it 429 (negative: no limit)", (*intValue)(&c.IdempotencyKeys)},
	}, c.opsSettings()...)
}

// Defaults returns the configuration with every default filled in.
func Defaults() Config {
	return Config{
		Addr: "127.0.0.1:8080", Broker: "memory://", LogFmt: "text", LogLvl: "info",
		Timeout: 15 * time.Second, TenantClaim: "tid", CookieName: "ssehub_token",
		MaxConnsPerUser: 3, UserLimitPolicy: "evict", MaxConns: 500, TotalLimitPolicy: "reject",
		Heartbeat: 30 * time.Second, Retry: time.Second, WriteTimeout: 10 * time.Second,
		InactivityTimeout: 5 * time.Minute, SweepInterval: time.Minute, QueueSize: 1024,
		QueueBytes: 1 << 20, NodeQueueBytes: hub.DefaultNodeQueueBytes, SendBuffer: 64 << 10, HistoryBytes: 64 << 20,
		MaxPayload: 64 << 10, MaxBody: 1 << 20, MaxBatch: 100,
		HistorySize: 10_000, HistoryAge: 5 * time.Minute, PresenceInterval: 2 * time.Second,
		RateLimits:    "chat:typing=1s:coalesce:userId,presence:update=5s:coalesce:userId",
		PublisherRate: 200, IdempotencyWindow: 10 * time.Minute, IdempotencyKeys: 100_000,
		Metrics: true, MetricsTopTenants: 10, MetricsMaxEvents: 100,
	}
}

// EnvName returns the environment variable of a setting.
func EnvName(setting string) string {
	return "SSEHUB_" + strings.ToUpper(strings.ReplaceAll(setting, "-", "_"))
}

// Load fills a Config from defaults, the config file, the environment and
// the flags in args, in that order. extra registers a subcommand's own
// flags on the same FlagSet.
func Load(name string, args []string, getenv func(string) string, extra func(*flag.FlagSet)) (Config, error) {
	c := Defaults()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	byName := map[string]setting{}
	for _, s := range c.settings() {
		fs.Var(s.value, s.name, s.usage+" (env "+EnvName(s.name)+")")
		byName[s.name] = s
	}
	if extra != nil {
		extra(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ssehub %s [flags]\n\n", name)
		fs.PrintDefaults()
	}
	// Flags first, only to learn --config; they are applied again last.
	probe := Defaults()
	pfs := flag.NewFlagSet(name, flag.ContinueOnError)
	pfs.SetOutput(discard{})
	for _, s := range probe.settings() {
		pfs.Var(s.value, s.name, "")
	}
	if extra != nil {
		extra(pfs)
	}
	_ = pfs.Parse(args)
	file := probe.Config
	if file == "" {
		file = getenv(EnvName("config"))
	}
	if file != "" {
		if err := loadFile(file, byName); err != nil {
			return c, err
		}
	}
	var errs []error
	for _, s := range c.settings() {
		if v := getenv(EnvName(s.name)); v != "" {
			if err := s.value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %v", EnvName(s.name), v, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	return c, c.validate()
}

func loadFile(path string, byName map[string]setting) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, k := range keys {
		s, ok := byName[k]
		if !ok || k == "config" {
			errs = append(errs, fmt.Errorf("config file %s: unknown key %q", path, k))
			continue
		}
		if err := s.value.Set(fmt.Sprint(m[k])); err != nil {
			errs = append(errs, fmt.Errorf("config file %s: %s: %v", path, k, err))
		}
	}
	return errors.Join(errs...)
}

func (c *Config) validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("addr: empty"))
	}
	switch c.LogFmt {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log-format: %q is not text or json", c.LogFmt))
	}
	switch c.LogLvl {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level: %q is not debug, info, warn or error", c.LogLvl))
	}
	for _, p := range []struct{ k, v string }{{"user-limit-policy", c.UserLimitPolicy}, {"total-limit-policy", c.TotalLimitPolicy}} {
		if p.v != "evict" && p.v != "reject" {
			errs = append(errs, fmt.Errorf("%s: %q is not evict or reject", p.k, p.v))
		}
	}
	for _, d := range []struct {
		k string
		v time.Duration
	}{{"heartbeat", c.Heartbeat}, {"retry", c.Retry}, {"write-timeout", c.WriteTimeout},
		{"inactivity-timeout", c.InactivityTimeout}, {"sweep-interval", c.SweepInterval},
		{"history-age", c.HistoryAge}, {"shutdown-timeout", c.Timeout}, {"presence-interval", c.PresenceInterval}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be positive, got %v", d.k, d.v))
		}
	}
	if c.MaxConnAge < 0 {
		errs = append(errs, errors.New("max-conn-age: must not be negative"))
	}
	if c.Writers < 0 || c.Writers > 1024 {
		errs = append(errs, fmt.Errorf("writers: must be 0 (automatic) to 1024, got %d", c.Writers))
	}
	for _, n := range []struct {
		k string
		v int64
	}{{"queue-size", int64(c.QueueSize)}, {"queue-bytes", int64(c.QueueBytes)}, {"node-queue-bytes", c.NodeQueueBytes},
		{"max-payload", int64(c.MaxPayload)}, {"max-body", c.MaxBody}, {"max-batch", int64(c.MaxBatch)}} {
		if n.v <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be positive, got %d", n.k, n.v))
		}
	}
	if _, err := c.rateLimits(); err != nil {
		errs = append(errs, fmt.Errorf("rate-limits: %v", err))
	}
	if c.PublisherRate == 0 {
		errs = append(errs, errors.New("publisher-rate: must not be 0 (negative means no limit)"))
	}
	if c.IdempotencyWindow <= 0 {
		errs = append(errs, errors.New("idempotency-window: must be positive"))
	}
	if c.IdempotencyKeys == 0 {
		errs = append(errs, errors.New("idempotency-max-keys: must not be 0 (negative means no limit)"))
	}
	if c.HistorySize < 0 {
		errs = append(errs, errors.New("history-size: must not be negative"))
	}
	if c.QueueBytes > 0 && c.QueueBytes < c.MaxPayload {
		errs = append(errs, fmt.Errorf("queue-bytes: %d is below max-payload (%d)", c.QueueBytes, c.MaxPayload))
	}
	if c.SendBuffer < 0 {
		errs = append(errs, errors.New("send-buffer: must not be negative"))
	}
	if c.HistoryBytes < 0 {
		errs = append(errs, errors.New("history-bytes: must not be negative"))
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		errs = append(errs, fmt.Errorf("jwt-secret: %d bytes, want at least 32", len(c.JWTSecret)))
	}
	errs = append(errs, c.opsErrors()...)
	return errors.Join(errs...)
}

// rateLimits parses RateLimits; "none" and "" mean no limits.
func (c *Config) rateLimits() (map[string]ratelimit.Rule, error) {
	if c.RateLimits == "none" || c.RateLimits == "" {
		return map[string]ratelimit.Rule{}, nil
	}
	return ratelimit.ParseRules(c.RateLimits)
}

// keyless reports whether no JWT key source is configured.
func (c *Config) keyless() bool { return c.JWTSecret == "" && c.JWTPublicKey == "" && c.JWKSURL == "" }

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

type stringValue string

func (v *stringValue) String() string     { return string(*v) }
func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }

type boolValue bool

func (v *boolValue) String() string { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	*v = boolValue(b)
	return err
}
func (v *boolValue) IsBoolFlag() bool { return true }

type intValue int

func (v *intValue) String() string { return strconv.Itoa(int(*v)) }
func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("not an integer: %q", s)
	}
	*v = intValue(n)
	return nil
}

type int64Value int64

func (v *int64Value) String() string { return strconv.FormatInt(int64(*v), 10) }
func (v *int64Value) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not an integer: %q", s)
	}
	*v = int64Value(n)
	return nil
}

type floatValue float64

func (v *floatValue) String() string { return strconv.FormatFloat(float64(*v), 'g', -1, 64) }
func (v *floatValue) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("not a number: %q", s)
	}
	*v = floatValue(f)
	return nil
}

type durationValue time.Duration

func (v *durationValue) String() string { return time.Duration(*v).String() }
func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("not a duration like 30s or 5m: %q", s)
	}
	*v = durationValue(d)
	return nil
}

// SettingDoc describes one setting for the configuration reference.
type SettingDoc struct {
	Name, Env, Default, Usage string
}

// Settings lists every setting with its default, in the order of the
// configuration reference.
func Settings() []SettingDoc {
	c := Defaults()
	var out []SettingDoc
	for _, s := range c.settings() {
		out = append(out, SettingDoc{s.name, EnvName(s.name), s.value.String(), s.usage})
	}
	return out
}
