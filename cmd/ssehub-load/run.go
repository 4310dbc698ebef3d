package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Hard bounds of one run.
const (
	maxConns    = 200_000
	maxEvents   = 1_000_000
	fdReserve   = 64 // files a process keeps for itself
	maxWorkers  = 64
	maxDuration = 30 * time.Minute
)

type options struct {
	url, subPath, pubPath string
	urls                  []string // --url split at commas; the first takes the publishes
	n, workers, loops     int
	inflight              int
	target                string
	groups                int
	rate                  float64
	window                int
	probeRate             float64
	warmup                int
	events                int
	duration              time.Duration
	payload               int
	settle, drainIdle     time.Duration
	maxDuration           time.Duration
	secret, tenantClaim   string
	serverPIDs            []int
	spawn                 bool
	serverCmd, serverArgs string
	label                 string
	pprofURL, pprofDir    string
	smoke, quiet          bool
	stalled, stalledBuf   int
	cpuprofile            string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("ssehub-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "server base URL (loopback only); a comma-separated list spreads the connections over several servers (nodes of one cluster), publishes go to the first")
	fs.StringVar(&o.subPath, "sub-path", "/api/sse", "stream path")
	fs.StringVar(&o.pubPath, "pub-path", "/api/events", "publish path")
	fs.IntVar(&o.n, "n", 1000, "connections")
	fs.IntVar(&o.workers, "workers", 1, "processes holding the connections (>1 forks workers, each with n/workers)")
	fs.IntVar(&o.loops, "loops", 2, "epoll loops per process")
	fs.IntVar(&o.inflight, "inflight", 256, "connects in flight at most, per process")
	fs.StringVar(&o.target, "target", "broadcast", "target: "+strings.Join(targets, ", "))
	fs.IntVar(&o.groups, "groups", 10, "tenants, users or channels for the non-broadcast targets")
	fs.Float64Var(&o.rate, "rate", 4, "events per second (0: back to back)")
	fs.Float64Var(&o.probeRate, "probe-rate", 0, "during the publish phase, also GET /healthz of the (first) server at random moments, this many times a second on average, and report its latency as probe_us: how quickly the server answers in the middle of fan-outs (0: off)")
	fs.IntVar(&o.window, "window", 0, "flow control: publish event k only once events up to k-window reached every client (0: off); with --rate 0 it measures the highest delivery rate")
	fs.IntVar(&o.warmup, "warmup", 3, "events published (at --rate) and delivered before the measured phase; they count for losses, not for latency or CPU")
	fs.IntVar(&o.events, "events", 0, "events to publish (0: until --duration)")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "length of the publish phase")
	fs.IntVar(&o.payload, "payload", 100, "approximate bytes of event data")
	fs.DurationVar(&o.settle, "settle", time.Second, "wait after connecting, before measuring memory and publishing")
	fs.DurationVar(&o.drainIdle, "drain-idle", 3*time.Second, "after publishing, stop waiting when no event arrived for this long")
	fs.DurationVar(&o.maxDuration, "max-duration", 2*time.Minute, "hard limit of the whole run")
	fs.StringVar(&o.secret, "jwt-secret", os.Getenv("SSEHUB_JWT_SECRET"), "HS256 secret to sign tokens with (empty: send none)")
	fs.StringVar(&o.tenantClaim, "tenant-claim", "tid", "JWT claim of the tenant")
	var pids string
	fs.StringVar(&pids, "server-pid", "", "pid of the server, for memory and CPU figures; with several --url, a comma-separated list in the same order (figures summed, and per node)")
	fs.BoolVar(&o.spawn, "spawn", false, "start the ssehub server built into this binary")
	fs.StringVar(&o.serverCmd, "server-cmd", "", "start this server command; {addr} becomes a free loopback address and sets --url")
	fs.StringVar(&o.serverArgs, "server-args", "", "extra ssehub flags with --spawn")
	fs.StringVar(&o.label, "label", "", "name of the run in the result")
	fs.StringVar(&o.pprofURL, "pprof", "", "base URL of the server's /debug/pprof: save heap (after connecting) and CPU (while publishing) profiles")
	fs.StringVar(&o.pprofDir, "pprof-dir", ".", "where --pprof saves profiles")
	fs.BoolVar(&o.smoke, "smoke", false, "a short self-check: --spawn, 200 connections, 20 events/s for 4s (other flags still apply after)")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress display")
	fs.IntVar(&o.stalled, "stalled", 0, "also open this many stalled streams to the (first) server: they read sse:ready, then nothing, with a --stalled-rcvbuf receive buffer; they get the events the others get, and the result says how many the server closed and its RSS peak")
	fs.IntVar(&o.stalledBuf, "stalled-rcvbuf", 4096, "receive buffer of each --stalled stream's socket, in bytes")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write this tool's own CPU profile of the publish phase to this file")
	if slices.Contains(args, "--smoke") || slices.Contains(args, "-smoke") {
		// Defaults of the smoke mode, before the flags that override them.
		o2 := []string{"--spawn", "--n=200", "--rate=20", "--duration=4s", "--settle=300ms", "--max-duration=60s", "--label=smoke"}
		args = append(o2, args...)
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var errs []error
	for u := range strings.SplitSeq(o.url, ",") {
		if u = strings.TrimSpace(u); u != "" {
			o.urls = append(o.urls, u)
		}
	}
	if len(o.urls) == 0 {
		errs = append(errs, errors.New("--url: want at least one URL"))
	}
	for p := range strings.SplitSeq(pids, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		pid, err := strconv.Atoi(p)
		if err != nil || pid <= 0 {
			errs = append(errs, fmt.Errorf("--server-pid %q: want process ids", p))
			continue
		}
		o.serverPIDs = append(o.serverPIDs, pid)
	}
	if len(o.urls) > 1 && (o.spawn || o.serverCmd != "") {
		errs = append(errs, errors.New("several --url exclude --spawn and --server-cmd"))
	}
	if !slices.Contains(targets, o.target) {
		errs = append(errs, fmt.Errorf("--target %q: want one of %s", o.target, strings.Join(targets, ", ")))
	}
	if o.n < 1 || o.n > maxConns {
		errs = append(errs, fmt.Errorf("--n %d: want 1 to %d", o.n, maxConns))
	}
	if o.workers < 1 || o.workers > maxWorkers || o.workers > o.n {
		errs = append(errs, fmt.Errorf("--workers %d: want 1 to min(n, %d)", o.workers, maxWorkers))
	}
	if o.rate < 0 || o.events < 0 || o.events > maxEvents || o.warmup < 0 || o.warmup > 1000 {
		errs = append(errs, fmt.Errorf("--rate and --events: want rate >= 0 and 0 <= events <= %d", maxEvents))
	}
	if o.probeRate < 0 || o.probeRate > 1000 {
		errs = append(errs, fmt.Errorf("--probe-rate %v: want 0 to 1000 requests a second", o.probeRate))
	}
	if o.maxDuration <= 0 || o.maxDuration > maxDuration {
		errs = append(errs, fmt.Errorf("--max-duration %v: want up to %v", o.maxDuration, maxDuration))
	}
	if o.duration <= 0 || o.duration >= o.maxDuration {
		errs = append(errs, fmt.Errorf("--duration %v: want more than 0 and less than --max-duration", o.duration))
	}
	if o.spawn && o.serverCmd != "" {
		errs = append(errs, errors.New("--spawn and --server-cmd exclude each other"))
	}
	if o.payload < 40 || o.payload > 60<<10 {
		errs = append(errs, fmt.Errorf("--payload %d: want 40 to %d", o.payload, 60<<10))
	}
	if o.stalled < 0 || o.stalled > 20_000 || o.stalledBuf < 256 {
		errs = append(errs, errors.New("--stalled: want 0 to 20000 streams, with --stalled-rcvbuf of at least 256"))
	}
	if o.target != "broadcast" && o.groups < 1 {
		errs = append(errs, errors.New("--groups: want at least 1"))
	}
	return o, errors.Join(errs...)
}

// summary describes a histogram in microseconds.
type summary struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean"`
	P50   int64   `json:"p50"`
	P90   int64   `json:"p90"`
	P99   int64   `json:"p99"`
	P999  int64   `json:"p999"`
	Max   int64   `json:"max"`
}

func summarize(h *hdr.Histogram) summary {
	return summary{
		Count: h.TotalCount(), Mean: float64(int64(h.Mean()*10)) / 10,
		P50: h.ValueAtQuantile(50), P90: h.ValueAtQuantile(90), P99: h.ValueAtQuantile(99),
		P999: h.ValueAtQuantile(99.9), Max: h.Max(),
	}
}

// result is the JSON line a run prints. Sizes are bytes, times are
// seconds unless the name says otherwise.
type result struct {
	Label   string  `json:"label,omitempty"`
	URL     string  `json:"url"`
	Target  string  `json:"target"`
	Groups  int     `json:"groups"`
	N       int     `json:"n"`
	Workers int     `json:"workers"`
	Rate    float64 `json:"rate"`
	Window  int     `json:"window,omitempty"`
	Warmup  int     `json:"warmup"`
	Payload int     `json:"payload"`

	Connected     int64   `json:"connected"`
	ConnectFailed int64   `json:"connect_failed"`
	ConnectSecs   float64 `json:"connect_secs"`
	ConnectRate   float64 `json:"connect_rate"`
	ConnectUs     summary `json:"connect_us"`

	ServerPID      int     `json:"server_pid,omitempty"`
	ServerPIDs     []int   `json:"server_pids,omitempty"` // several servers: the figures below are their sums
	RSSBefore      int64   `json:"server_rss_before,omitempty"`
	RSSAfter       int64   `json:"server_rss_after,omitempty"`
	RSSPerConn     float64 `json:"server_rss_per_conn,omitempty"`
	ServerCPUSecs  float64 `json:"server_cpu_secs,omitempty"`
	CPUPerDelivery float64 `json:"server_cpu_per_delivery_us,omitempty"`

	Published     int64   `json:"published"`
	PublishFailed int64   `json:"publish_failed"`
	PublishBehind int64   `json:"publish_behind"`
	PublishSecs   float64 `json:"publish_secs"`
	PublishUs     summary `json:"publish_us"`
	// ProbeUs is GET /healthz at random moments during the publish phase
	// (--probe-rate): the server's answer time in the middle of fan-outs.
	ProbeUs *summary `json:"probe_us,omitempty"`

	Expected        int64   `json:"expected"`
	Deliveries      int64   `json:"deliveries"`
	Measured        int64   `json:"measured_deliveries"` // after the warm-up
	DeliveredPerSec float64 `json:"delivered_per_sec"`
	LatencyUs       summary `json:"latency_us"`
	Lost            int64   `json:"lost"`
	ConnsWithLoss   int64   `json:"conns_with_loss"`
	Gaps            int64   `json:"gaps"`
	Dupes           int64   `json:"dupes"`
	IDErrors        int64   `json:"id_errors"`
	BadPayload      int64   `json:"bad_payload"`
	ClosedEarly     int64   `json:"closed_early"`

	// Stalled is --stalled; StalledClosed how many of them the server had
	// closed once the events were delivered to the others. RSSPeak is the
	// servers' highest RSS while publishing and draining, RSSEnd their RSS
	// two seconds after the stalled streams were gone.
	Stalled       int   `json:"stalled,omitempty"`
	StalledClosed int   `json:"stalled_closed,omitempty"`
	RSSPeak       int64 `json:"server_rss_peak,omitempty"`
	RSSEnd        int64 `json:"server_rss_end,omitempty"`

	ClientCPUSecs        float64 `json:"client_cpu_secs"`
	ClientCPUPerDelivery float64 `json:"client_cpu_per_delivery_us"`

	// Nodes breaks the server figures down by server when there are
	// several URLs or pids (pid j belongs to URL j when both lists have
	// the same length).
	Nodes []nodeResult `json:"nodes,omitempty"`

	Errors  map[string]int `json:"errors,omitempty"`
	Aborted string         `json:"aborted,omitempty"`
	OK      bool           `json:"ok"`
}

// nodeResult is one server's share of a run over several servers.
type nodeResult struct {
	URL        string  `json:"url,omitempty"`
	PID        int     `json:"pid,omitempty"`
	Connected  int64   `json:"connected"`
	RSSBefore  int64   `json:"server_rss_before,omitempty"`
	RSSAfter   int64   `json:"server_rss_after,omitempty"`
	RSSPerConn float64 `json:"server_rss_per_conn,omitempty"`
	CPUSecs    float64 `json:"server_cpu_secs,omitempty"`
}

// run is one load run; it returns the exit status.
func run(parent context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "ssehub-load:", err)
		return 2
	}
	if _, isFile := stderr.(*os.File); !isFile {
		// Children's output is copied by goroutines of os/exec.
		stderr = &lockedWriter{w: stderr}
	}
	r := &runner{o: o, stderr: stderr, res: result{
		Label: o.label, Target: o.target, N: o.n, Workers: o.workers, Rate: o.rate, Window: o.window, Warmup: o.warmup, Payload: o.payload,
		Errors: map[string]int{},
	}}
	if o.target != "broadcast" {
		r.res.Groups = o.groups
	}
	ctx, cancel := context.WithTimeout(parent, o.maxDuration)
	defer cancel()
	code := r.run(ctx)
	if code == 2 && r.res.URL == "" {
		return code // refused before starting: no result
	}
	if ctx.Err() != nil && r.res.Aborted == "" {
		r.res.Aborted = "max-duration or signal: " + context.Cause(ctx).Error()
	}
	if r.res.Aborted != "" {
		code = 2
	}
	if len(r.res.Errors) == 0 {
		r.res.Errors = nil
	}
	b, _ := json.Marshal(r.res)
	fmt.Fprintln(stdout, string(b))
	return code
}

type runner struct {
	o      options
	stderr io.Writer
	res    result

	phase   atomic.Value // string
	started time.Time
	workers []worker
	pub     atomic.Pointer[publisher]
}

func (r *runner) logf(format string, args ...any) {
	if !r.o.quiet {
		fmt.Fprintf(r.stderr, "ssehub-load: "+format+"\n", args...)
	}
}

func (r *runner) run(ctx context.Context) int {
	o := r.o
	r.started = time.Now()
	limit, err := raiseNofile()
	if err != nil {
		r.logf("cannot raise RLIMIT_NOFILE (now %d): %v", limit, err)
	}
	perProc := (o.n + o.workers - 1) / o.workers
	if uint64(perProc+fdReserve) > limit {
		fmt.Fprintf(r.stderr, "ssehub-load: %d connections per process need %d files, the limit is %d: use --workers %d or more\n",
			perProc, perProc+fdReserve, limit, (o.n+int(limit)-fdReserve-1)/(int(limit)-fdReserve))
		return 2
	}
	if o.secret == "" && o.spawn {
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		r.o.secret = hex.EncodeToString(b)
		o = r.o
	}

	// The server.
	if o.spawn || o.serverCmd != "" {
		srv, err := r.startServer(ctx)
		if err != nil {
			fmt.Fprintln(r.stderr, "ssehub-load:", err)
			return 2
		}
		defer srv.stop()
		o = r.o
	}
	r.res.URL = o.url
	var aps []netip.AddrPort
	var hosts []string
	for _, s := range o.urls {
		u, err := url.Parse(s)
		if err != nil || u.Scheme != "http" {
			fmt.Fprintf(r.stderr, "ssehub-load: --url %q: want http://host:port\n", s)
			return 2
		}
		ap, err := resolveLoopback(u.Host)
		if err != nil {
			fmt.Fprintln(r.stderr, "ssehub-load: --url:", err)
			return 2
		}
		aps, hosts = append(aps, ap), append(hosts, u.Host)
	}
	wl := workload{
		Target: o.target, Groups: o.groups, Host: hosts[0], SubPath: o.subPath, PubPath: o.pubPath,
		Secret: o.secret, TenantClaim: o.tenantClaim, Payload: o.payload,
	}
	if len(hosts) > 1 {
		wl.Hosts = hosts
	}
	pids := o.serverPIDs
	if len(pids) == 1 {
		r.res.ServerPID = pids[0]
	} else {
		r.res.ServerPIDs = pids
	}
	perServer := r.connsPerServer(wl)
	for j, pid := range pids {
		need := int64(o.n)
		if len(pids) == len(perServer) {
			need = perServer[j] // pid j serves URL j
		} else if len(pids) > 1 {
			break // which server serves how many is unknown
		}
		if lim, err := procMaxFiles(pid); err == nil && lim < need+16 {
			fmt.Fprintf(r.stderr, "ssehub-load: the server (pid %d) may open %d files, fewer than its %d connections need (and 16 more)\n", pid, lim, need)
			return 2
		}
	}

	stopProgress := r.showProgress()
	defer stopProgress()

	// Connect.
	rssBefore := procRSSAll(pids)
	r.phase.Store("connect")
	if err := r.startWorkers(aps, wl); err != nil {
		fmt.Fprintln(r.stderr, "ssehub-load:", err)
		return 1
	}
	defer func() {
		for _, w := range r.workers {
			w.close()
		}
	}()
	t0 := time.Now()
	if err := r.each(func(w worker) error { return w.connect(ctx) }); err != nil {
		// Say how far it got (the last progress the workers reported).
		p := r.progressAll()
		r.res.Connected, r.res.ConnectFailed = p.Connected, p.Failed
		r.res.ConnectSecs = round3(time.Since(t0).Seconds())
		r.res.Nodes = r.nodes(p, rssBefore, procRSSAll(pids))
		r.res.Errors["connect: "+err.Error()]++
		return 1
	}
	connectSecs := time.Since(t0).Seconds()
	p := r.progressAll()
	r.res.Connected, r.res.ConnectFailed = p.Connected, p.Failed
	r.res.ConnectSecs = round3(connectSecs)
	r.res.ConnectRate = round1(float64(p.Connected) / connectSecs)
	r.logf("connected %d of %d in %.2fs (%d failed)", p.Connected, o.n, connectSecs, p.Failed)

	var stalled *stalledSet
	if o.stalled > 0 {
		r.phase.Store("stalled")
		stalled, err = openStalled(ctx, aps[0], wl, o.n, o.stalled, o.stalledBuf)
		if err != nil {
			r.res.Errors[err.Error()]++
			return 1
		}
		defer stalled.close()
		r.res.Stalled = o.stalled
		r.logf("opened %d stalled streams", o.stalled)
	}

	r.phase.Store("settle")
	if !sleepCtx(ctx, o.settle) {
		return 2
	}
	rssAfter := procRSSAll(pids)
	if len(pids) > 0 && p.Connected > 0 {
		r.res.RSSBefore, r.res.RSSAfter = sum(rssBefore), sum(rssAfter)
		r.res.RSSPerConn = round1(float64(r.res.RSSAfter-r.res.RSSBefore) / float64(p.Connected))
	}
	r.res.Nodes = r.nodes(p, rssBefore, rssAfter)
	if o.pprofURL != "" {
		r.saveHeapProfile(ctx)
	}

	// Publish.
	r.phase.Store("publish")
	pub := newPublisher(wl, strings.TrimSuffix(o.urls[0], "/")+o.pubPath)
	r.pub.Store(pub)
	if o.window > 0 {
		pub.before = r.windowWait(wl)
	}
	if o.warmup > 0 {
		r.phase.Store("warmup")
		pub.warm = true
		pub.run(ctx, o.rate, o.warmup, o.maxDuration)
		pub.warm = false
		var due int64
		for g, e := range pub.expected() {
			due += e * r.groupSizes(wl)[g]
		}
		r.waitReceived(ctx, due)
		r.phase.Store("publish")
	}
	recv0 := r.progressAll().Received
	cpu0 := procCPUAll(pids)
	client0 := r.clientCPU()
	pubStart := time.Now()
	stopPeak := rssPeak(pids, 250*time.Millisecond)
	var profWG sync.WaitGroup
	if o.pprofURL != "" {
		profWG.Go(func() { r.saveCPUProfile(ctx, o.duration) })
	}
	stopProfile := startCPUProfile(o.cpuprofile, r.logf)
	var probeWG sync.WaitGroup
	probeCtx, stopProbe := context.WithCancel(ctx)
	if o.probeRate > 0 {
		probeWG.Go(func() {
			s := summarize(probe(probeCtx, strings.TrimSuffix(o.urls[0], "/")+"/healthz", o.probeRate))
			r.res.ProbeUs = &s
		})
	}
	pub.run(ctx, o.rate, o.events, o.duration)
	stopProbe()
	probeWG.Wait()
	r.res.PublishSecs = round3(time.Since(pubStart).Seconds())

	// Drain.
	r.phase.Store("drain")
	expected := pub.expected()
	results := make([]workerResult, len(r.workers))
	err = r.eachIndexed(func(i int, w worker) error {
		var err error
		results[i], err = w.drain(ctx, expected, o.drainIdle)
		return err
	})
	cpu1 := procCPUAll(pids)
	stopProfile()
	profWG.Wait()
	if len(pids) > 0 {
		r.res.RSSPeak = stopPeak()
	} else {
		stopPeak()
	}
	if stalled != nil {
		r.res.StalledClosed = stalled.closedByServer(10 * time.Second)
		stalled.close()
		r.logf("the server had closed %d of %d stalled streams", r.res.StalledClosed, o.stalled)
		if len(pids) > 0 && sleepCtx(ctx, 2*time.Second) {
			r.res.RSSEnd = sum(procRSSAll(pids))
		}
	}
	if err != nil {
		r.res.Errors["drain: "+err.Error()]++
		return 1
	}
	r.phase.Store("done")
	r.tally(results, pub, pubStart, recv0)
	if len(pids) > 0 && r.res.Measured > 0 {
		r.res.ServerCPUSecs = round3(sum(cpu1) - sum(cpu0))
		r.res.CPUPerDelivery = round3((sum(cpu1) - sum(cpu0)) * 1e6 / float64(r.res.Measured))
		for j := range r.res.Nodes {
			if j < len(pids) {
				r.res.Nodes[j].CPUSecs = round3(cpu1[j] - cpu0[j])
			}
		}
	}
	clientCPU := 0.0
	for _, wr := range results {
		clientCPU += wr.CPUSecs
	}
	if o.workers > 1 {
		self, _ := rusageSelf()
		clientCPU += self
	}
	r.res.ClientCPUSecs = round3(clientCPU - client0)
	if r.res.Measured > 0 {
		r.res.ClientCPUPerDelivery = round3(r.res.ClientCPUSecs * 1e6 / float64(r.res.Measured))
	}
	r.res.OK = r.res.Lost == 0 && r.res.ConnectFailed == 0 && r.res.PublishFailed == 0 &&
		r.res.Dupes == 0 && r.res.IDErrors == 0 && r.res.BadPayload == 0 && r.res.ClosedEarly == 0 &&
		r.res.Published > 0
	if !r.res.OK {
		return 1
	}
	return 0
}

// groupSizes returns the number of streams of each publish group.
func (r *runner) groupSizes(wl workload) []int64 {
	g := wl.groups()
	size := make([]int64, g)
	for i := range r.o.n {
		size[i%g]++
	}
	return size
}

// windowWait returns the publisher's hook for --window: before event k,
// wait until the events before k-window were delivered to every stream.
func (r *runner) windowWait(wl workload) func(context.Context, int) {
	size := r.groupSizes(wl)
	var due int64 // deliveries of the events before next
	next := 0
	return func(ctx context.Context, k int) {
		for ; next < k-r.o.window; next++ {
			due += size[next%len(size)]
		}
		r.waitReceived(ctx, due)
	}
}

// waitReceived waits until the streams received due events in all, until
// no event arrived for --drain-idle, or until ctx ends.
func (r *runner) waitReceived(ctx context.Context, due int64) {
	last, since := int64(-1), time.Now()
	for ctx.Err() == nil {
		got := r.progressAll().Received
		if got >= due {
			return
		}
		if got != last {
			last, since = got, time.Now()
		} else if time.Since(since) > r.o.drainIdle {
			return
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func (r *runner) startServer(ctx context.Context) (*serverProc, error) {
	o := &r.o
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	var argv, env []string
	if o.spawn {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		argv = []string{exe, "--addr", addr, "--jwt-secret", o.secret, "--tenant-claim", o.tenantClaim,
			"--max-conns", "-1", "--max-conns-per-user", "-1", "--heartbeat", "30s", "--log-level", "warn"}
		argv = append(argv, strings.Fields(o.serverArgs)...)
		env = []string{roleEnv + "=server"}
	} else {
		argv = strings.Fields(o.serverCmd)
		if !strings.Contains(o.serverCmd, "{addr}") {
			u, err := url.Parse(o.url)
			if err != nil {
				return nil, err
			}
			addr = u.Host
		}
		for i := range argv {
			argv[i] = strings.ReplaceAll(argv[i], "{addr}", addr)
		}
		if len(argv) == 0 {
			return nil, errors.New("--server-cmd is empty")
		}
		env = []string{roleEnv + "="}
	}
	r.logf("starting server: %s", strings.Join(redactArgs(argv), " "))
	srv, err := startServer(ctx, argv, env, addr, r.stderr, r.stderr)
	if err != nil {
		return nil, err
	}
	o.url = "http://" + addr
	o.urls = []string{o.url}
	o.serverPIDs = []int{srv.pid()}
	return srv, nil
}

func redactArgs(argv []string) []string {
	out := slices.Clone(argv)
	for i := range out {
		if i > 0 && out[i-1] == "--jwt-secret" {
			out[i] = "…"
		}
	}
	return out
}

// resolveLoopback resolves host:port to an IPv4 loopback address; the tool
// refuses any other target.
func resolveLoopback(hostport string) (netip.AddrPort, error) {
	ta, err := net.ResolveTCPAddr("tcp4", hostport)
	if err != nil {
		return netip.AddrPort{}, err
	}
	ap := ta.AddrPort()
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if !ap.Addr().Is4() || !ap.Addr().IsLoopback() {
		return netip.AddrPort{}, fmt.Errorf("%s is not an IPv4 loopback address: this tool loads servers on 127.0.0.0/8 only", ap.Addr())
	}
	return ap, nil
}

func (r *runner) startWorkers(aps []netip.AddrPort, wl workload) error {
	o := r.o
	servers := make([]string, len(aps))
	for i, ap := range aps {
		servers[i] = ap.String()
	}
	for i := range o.workers {
		spec := workerSpec{
			Servers: servers, Lo: i * o.n / o.workers, Hi: (i + 1) * o.n / o.workers,
			Loops: o.loops, Inflight: o.inflight, Workload: wl,
		}
		var w worker
		var err error
		if o.workers == 1 {
			w, err = newLocalWorker(spec)
		} else {
			w, err = startRemoteWorker(spec, r.stderr)
		}
		if err != nil {
			return fmt.Errorf("worker %d: %w", i, err)
		}
		r.workers = append(r.workers, w)
	}
	return nil
}

func (r *runner) each(f func(worker) error) error {
	return r.eachIndexed(func(_ int, w worker) error { return f(w) })
}

// eachIndexed runs f on every worker at once and returns the errors.
func (r *runner) eachIndexed(f func(int, worker) error) error {
	errs := make([]error, len(r.workers))
	var wg sync.WaitGroup
	for i, w := range r.workers {
		wg.Go(func() { errs[i] = f(i, w) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (r *runner) progressAll() progress {
	var p progress
	for _, w := range r.workers {
		q := w.progress()
		p.Attempted += q.Attempted
		p.Connected += q.Connected
		if len(q.ConnectedBy) > len(p.ConnectedBy) {
			p.ConnectedBy = append(p.ConnectedBy, make([]int64, len(q.ConnectedBy)-len(p.ConnectedBy))...)
		}
		for j, c := range q.ConnectedBy {
			p.ConnectedBy[j] += c
		}
		p.Failed += q.Failed
		p.Closed += q.Closed
		p.Received += q.Received
		p.CPUSecs += q.CPUSecs
	}
	return p
}

// clientCPU returns the CPU time of this process and its workers so far.
func (r *runner) clientCPU() float64 {
	if r.o.workers == 1 {
		c, _ := rusageSelf()
		return c
	}
	self, _ := rusageSelf()
	return self + r.progressAll().CPUSecs
}

// showProgress prints a line to stderr every second until stopped.
func (r *runner) showProgress() func() {
	if r.o.quiet {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			p := r.progressAll()
			phase, _ := r.phase.Load().(string)
			line := fmt.Sprintf("[%6.1fs] %-7s conns %d/%d failed %d closed %d | received %d",
				time.Since(r.started).Seconds(), phase, p.Connected, r.o.n, p.Failed, p.Closed, p.Received)
			if pub := r.pub.Load(); pub != nil {
				line += fmt.Sprintf(" | published %d failed %d", pub.published.Load(), pub.failed.Load())
			}
			fmt.Fprintln(r.stderr, line)
		}
	})
	return func() { close(done); wg.Wait() }
}

func (r *runner) tally(results []workerResult, pub *publisher, pubStart time.Time, recv0 int64) {
	lat, conn := newLatencyHist(), newLatencyHist()
	var doneAt int64
	for _, wr := range results {
		lat.Merge(decodeHist(wr.Latency))
		conn.Merge(decodeHist(wr.Connect))
		r.res.Expected += wr.Expected
		r.res.Deliveries += wr.Deliveries
		r.res.Lost += wr.Lost
		r.res.ConnsWithLoss += wr.ConnsWithLoss
		r.res.Gaps += wr.Gaps
		r.res.Dupes += wr.Dupes
		r.res.IDErrors += wr.IDErrors
		r.res.BadPayload += wr.BadPayload
		r.res.ClosedEarly += wr.Progress.Closed
		doneAt = max(doneAt, wr.DoneAtNs)
		for k, v := range wr.Errors {
			r.res.Errors[k] += v
		}
	}
	r.res.LatencyUs = summarize(lat)
	r.res.ConnectUs = summarize(conn)
	r.res.Measured = r.res.Deliveries - recv0
	if d := time.Duration(doneAt - pubStart.UnixNano()).Seconds(); d > 0 {
		r.res.DeliveredPerSec = round1(float64(r.res.Measured) / d)
	}
	pub.mu.Lock()
	r.res.PublishUs = summarize(pub.lat)
	pub.mu.Unlock()
	r.res.Published = pub.published.Load()
	r.res.PublishFailed = pub.failed.Load()
	r.res.PublishBehind = pub.behind.Load()
	pub.errMu.Lock()
	for k, v := range pub.errs {
		r.res.Errors[k] += v
	}
	pub.errMu.Unlock()
}

// connsPerServer returns how many of the n connections go to each server.
func (r *runner) connsPerServer(wl workload) []int64 {
	k := max(len(wl.Hosts), 1)
	out := make([]int64, k)
	for i := range r.o.n {
		out[serverOf(i, wl.groups(), k)]++
	}
	return out
}

// nodes returns the per-server figures of a run over several servers (or
// several pids), after connecting: p is the progress then.
func (r *runner) nodes(p progress, rssBefore, rssAfter []int64) []nodeResult {
	urls, pids := r.o.urls, r.o.serverPIDs
	if len(urls) < 2 && len(pids) < 2 {
		return nil
	}
	out := make([]nodeResult, max(len(urls), len(pids)))
	for j := range out {
		n := &out[j]
		if j < len(urls) && len(urls) > 1 {
			n.URL = urls[j]
			if j < len(p.ConnectedBy) {
				n.Connected = p.ConnectedBy[j]
			}
		}
		if j < len(pids) {
			n.PID = pids[j]
			n.RSSBefore, n.RSSAfter = rssBefore[j], rssAfter[j]
			if len(pids) == len(urls) && n.Connected > 0 {
				n.RSSPerConn = round1(float64(n.RSSAfter-n.RSSBefore) / float64(n.Connected))
			}
		}
	}
	return out
}

// procRSSAll returns the resident set size of each pid (0 if unknown).
func procRSSAll(pids []int) []int64 {
	out := make([]int64, len(pids))
	for i, pid := range pids {
		out[i], _ = procRSS(pid)
	}
	return out
}

// procCPUAll returns the CPU seconds each pid has used (0 if unknown).
func procCPUAll(pids []int) []float64 {
	out := make([]float64, len(pids))
	for i, pid := range pids {
		out[i], _ = procCPU(pid)
	}
	return out
}

func sum[T int64 | float64](xs []T) T {
	var s T
	for _, x := range xs {
		s += x
	}
	return s
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-ctx.Done():
		return false
	}
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
