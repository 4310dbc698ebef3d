package ssehttp_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/ssehttp"
)

// reasons counts the reasons connections were closed with.
type reasons struct {
	hub.Observer
	mu sync.Mutex
	n  map[string]int
}

func (r *reasons) ConnClosed(_, reason string, _ time.Duration) {
	r.mu.Lock()
	r.n[reason]++
	r.mu.Unlock()
}

func (r *reasons) count(reason string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[reason]
}

// noObserver is hub's default observer, embedded so that reasons only
// overrides ConnClosed.
type noObserver struct{}

func (noObserver) ConnOpened(string)                        {}
func (noObserver) ConnClosed(string, string, time.Duration) {}
func (noObserver) ConnRejected(string)                      {}
func (noObserver) Published(string)                         {}
func (noObserver) RateLimited(string)                       {}
func (noObserver) Coalesced(string)                         {}
func (noObserver) Dispatched(string, int)                   {}
func (noObserver) Dropped(string)                           {}
func (noObserver) Delivered(string, time.Duration)          {}
func (noObserver) Wrote(int, time.Duration, int)            {}

// stalledRun is what one run of the stalled-reader load measured.
type stalledRun struct {
	p99       time.Duration
	peakHeap  int64 // Go heap and stacks in use, the peak above the start
	afterHeap int64 // the same once the stalled readers are gone, after a GC
}

const (
	stalledHealthy = 5
	stalledEvents  = 300 // per run, paced by stalledRate
	stalledRate    = 100 // events per second
	stalledPayload = 2 << 10
	stalledQueue   = 128 << 10 // QueueBytes in the test
	// The server's sockets get a fixed send buffer: the kernel's own
	// sizing lets a loopback socket whose reader stopped absorb about
	// 4 MB, more than the whole run publishes.
	stalledSendBuffer = 16 << 10
)

// runStalled opens stalled readers that read sse:ready and then nothing
// (with a 4 KiB receive buffer), and healthy readers that read everything,
// then publishes stalledEvents tenant events of 2 KiB at stalledRate. It
// fails the test if a healthy reader misses an event or is closed.
func runStalled(t *testing.T, stalled int) stalledRun {
	obs := &reasons{Observer: noObserver{}, n: map[string]int{}}
	e := newEnv(t, hub.Config{
		MaxConns: -1, MaxConnsPerUser: -1, Heartbeat: time.Hour,
		QueueBytes: stalledQueue, Observer: obs,
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError})),
	}, func(c *ssehttp.Config) { c.PublisherRate = -1; c.SendBuffer = stalledSendBuffer })
	addr := e.srv.Listener.Addr().String()
	tok := userToken(t, "t1", "stalled")
	runtime.GC()
	base := goMemory()

	var held []net.Conn
	t.Cleanup(func() {
		for _, c := range held {
			c.Close()
		}
	})
	for i := range stalled {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("stalled reader %d: %v", i, err)
		}
		held = append(held, c)
		_ = c.(*net.TCPConn).SetReadBuffer(4096)
		fmt.Fprintf(c, "GET /api/sse HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", tok)
		br := bufio.NewReaderSize(c, 256)
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("stalled reader %d: %v", i, err)
			}
			if strings.HasPrefix(l, "event: sse:ready") {
				break
			}
		}
	}
	healthy := make([]*client, stalledHealthy)
	for i := range healthy {
		healthy[i] = e.open(userToken(t, "t1", fmt.Sprintf("healthy%d", i)), "")
		healthy[i].name = fmt.Sprintf("healthy%d", i)
	}

	// The heap's peak, sampled while the load runs.
	var peak atomic.Int64
	stopSample := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if m := goMemory(); m > peak.Load() {
				peak.Store(m)
			}
			select {
			case <-tick.C:
			case <-stopSample:
				return
			}
		}
	})

	lat := make([][]time.Duration, len(healthy))
	var readers sync.WaitGroup
	for i, c := range healthy {
		readers.Go(func() {
			for range stalledEvents {
				ev := c.next(30 * time.Second)
				var d struct {
					Sent int64 `json:"sent"`
				}
				if err := json.Unmarshal([]byte(ev.Data), &d); err != nil || d.Sent == 0 {
					t.Errorf("%s: event %q %q: %v", c.name, ev.Name, ev.Data, err)
					return
				}
				lat[i] = append(lat[i], time.Since(time.Unix(0, d.Sent)))
			}
		})
	}

	pub := adminToken(t)
	pad := strings.Repeat("p", stalledPayload)
	tick := time.NewTicker(time.Second / stalledRate)
	for i := range stalledEvents {
		<-tick.C
		e.mustPublish(pub, ev("load:tick", "t1", map[string]any{"tenantId": "t1"},
			map[string]any{"i": i, "sent": time.Now().UnixNano(), "pad": pad}))
	}
	tick.Stop()
	readers.Wait()
	close(stopSample)
	sampler.Wait()
	if t.Failed() {
		t.FailNow()
	}

	for _, c := range healthy {
		if got := c.drain(50 * time.Millisecond); len(got) != 0 {
			t.Fatalf("%s: %d events past the last one published (first %q)", c.name, len(got), got[0].Name)
		}
	}
	if s := e.hub.Stats(); s.ClientsByTenant["t1"] != stalled+stalledHealthy-obs.count(hub.ReasonSlowConsumer) {
		t.Logf("clients: %d, slow consumers closed: %d", s.ClientsByTenant["t1"], obs.count(hub.ReasonSlowConsumer))
	}
	for i := range stalledHealthy {
		if n := e.hub.Stats().ClientsByUser[fmt.Sprintf("t1/healthy%d", i)]; n != 1 {
			t.Fatalf("healthy%d: %d connections, want 1 (closed: %v)", i, n, obs.n)
		}
	}
	t.Logf("after publishing: %d bytes queued, %d connections", e.hub.Stats().QueuedBytes, e.hub.Sizes().Conns)
	if stalled > 0 {
		deadline := time.Now().Add(15 * time.Second)
		for obs.count(hub.ReasonSlowConsumer) < stalled && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := obs.count(hub.ReasonSlowConsumer); n != stalled {
			obs.mu.Lock()
			t.Errorf("slow consumers closed: %d, want %d (all closes: %v)", n, stalled, obs.n)
			obs.mu.Unlock()
		}
	}
	if stalled > 0 {
		// The stalled clients still hold their sockets, unread. A socket
		// the server closed with bytes its client never took would stay
		// in the kernel as an orphan, holding them; reset, it holds
		// nothing.
		deadline := time.Now().Add(5 * time.Second)
		for tcpOrphans() >= stalled/10 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := tcpOrphans(); n >= stalled/10 {
			t.Errorf("%d orphaned TCP sockets on the machine after the slow consumers were closed, want under %d", n, stalled/10)
		}
	}
	for _, c := range held {
		c.Close()
	}
	held = nil

	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	run := stalledRun{p99: all[len(all)*99/100], peakHeap: peak.Load() - base}
	time.Sleep(200 * time.Millisecond)
	runtime.GC()
	run.afterHeap = goMemory() - base
	if stalled > 0 && e.hub.Sizes().Conns != stalledHealthy {
		t.Errorf("registry holds %d connections after the stalled readers left, want %d", e.hub.Sizes().Conns, stalledHealthy)
	}
	return run
}

// TestStalledReadersDoNotHurtHealthyOnes runs the load of issue 13 scaled
// down: 1,000 readers that stop reading after sse:ready beside 5 that read
// everything, under a steady publisher. The healthy readers get every
// event, with a p99 close to that of the same load without the stalled
// ones; the stalled ones are closed as slow consumers once their byte
// budget fills; the queues never hold more than the documented bound, and
// once the stalled readers are gone their memory is back.
func TestStalledReadersDoNotHurtHealthyOnes(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 1,000 connections")
	}
	if os.Getenv("SSEHUB_TEST_STANDARD_STREAMS") == "1" {
		// A standard stream's socket is net/http's: SendBuffer does not
		// reach it, and the kernel's own sizing absorbs the whole run.
		t.Skip("the hub's writers only: SendBuffer applies to detached streams")
	}
	control := runStalled(t, 0)
	loaded := runStalled(t, 1000)
	t.Logf("healthy p99: %v alone, %v beside 1,000 stalled readers", control.p99, loaded.p99)
	t.Logf("heap above the start: peak %d KiB, %d KiB after the stalled readers left (control: peak %d KiB)",
		loaded.peakHeap>>10, loaded.afterHeap>>10, control.peakHeap>>10)
	// Generous: the machine is shared and the race detector slows
	// everything; without the fix the p99 is seconds.
	if limit := max(5*control.p99, control.p99+time.Second); loaded.p99 > limit {
		t.Errorf("healthy p99 beside stalled readers: %v, want at most %v (alone: %v)", loaded.p99, limit, control.p99)
	}
	// docs/operations.md: the queues hold at most
	// min(NodeQueueBytes, conns × QueueBytes) plus a frame reference each;
	// the connections themselves cost what BenchmarkIdleConnMemory
	// measures (well under 16 KiB each with the test's clients in the same
	// process).
	bound := int64(min(hub.DefaultNodeQueueBytes, 1005*stalledQueue)) + 1005*16<<10
	if loaded.peakHeap > bound {
		t.Errorf("heap peak above the start: %d KiB, want at most %d KiB", loaded.peakHeap>>10, bound>>10)
	}
	if loaded.afterHeap > control.peakHeap+8<<20 {
		t.Errorf("heap after the stalled readers left: %d KiB above the start, want within 8 MiB of the control's peak (%d KiB)",
			loaded.afterHeap>>10, control.peakHeap>>10)
	}
}

// tcpOrphans returns the machine's TCP sockets closed by their process but
// still held by the kernel (/proc/net/sockstat), or 0 where it is missing.
func tcpOrphans() int {
	b, _ := os.ReadFile("/proc/net/sockstat")
	for ln := range strings.SplitSeq(string(b), "\n") {
		f := strings.Fields(ln)
		if len(f) > 0 && f[0] == "TCP:" {
			for i := 1; i+1 < len(f); i += 2 {
				if f[i] == "orphan" {
					n, _ := strconv.Atoi(f[i+1])
					return n
				}
			}
		}
	}
	return 0
}
