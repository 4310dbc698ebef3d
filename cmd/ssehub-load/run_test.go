package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMain lets the test binary play the roles this binary's children
// play: the server of --spawn and the workers of --workers.
func TestMain(m *testing.M) {
	if os.Getenv(roleEnv) != "" {
		os.Exit(mainRole(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func runLoad(t *testing.T, args ...string) (result, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append(args, "--quiet"), &stdout, &stderr)
	t.Logf("ssehub-load %q: exit %d\n%s%s", args, code, stdout.String(), stderr.String())
	var res result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("result: %v", err)
	}
	return res, code
}

// checkComplete asserts a run in which every stream got every event.
// Events go to one of groups groups of connections in turn.
func checkComplete(t *testing.T, res result, code, n, groups int) {
	t.Helper()
	if code != 0 || !res.OK {
		t.Errorf("exit %d, ok %v: want 0, true", code, res.OK)
	}
	if res.Connected != int64(n) {
		t.Errorf("connected %d, want %d", res.Connected, n)
	}
	if res.Published == 0 {
		t.Errorf("published nothing")
	}
	if want := res.Published * int64(n) / int64(groups); res.Expected != want || res.Deliveries != want {
		t.Errorf("expected %d, deliveries %d: want %d each", res.Expected, res.Deliveries, want)
	}
	if res.Lost != 0 || res.Gaps != 0 || res.Dupes != 0 || res.IDErrors != 0 || res.ClosedEarly != 0 {
		t.Errorf("lost %d, gaps %d, dupes %d, id errors %d, closed early %d: want all 0",
			res.Lost, res.Gaps, res.Dupes, res.IDErrors, res.ClosedEarly)
	}
	warm := int64(res.Warmup) * int64(n) / int64(groups)
	if res.Measured != res.Deliveries-warm || res.LatencyUs.Count != res.Measured {
		t.Errorf("measured deliveries %d, latency samples %d: want %d each", res.Measured, res.LatencyUs.Count, res.Deliveries-warm)
	}
	if res.PublishUs.Count != res.Published-int64(res.Warmup) {
		t.Errorf("publish samples %d, want %d", res.PublishUs.Count, res.Published-int64(res.Warmup))
	}
	if res.RSSPerConn <= 0 || res.CPUPerDelivery <= 0 {
		t.Errorf("rss per conn %v, cpu per delivery %v: want both measured", res.RSSPerConn, res.CPUPerDelivery)
	}
}

// TestSmoke runs the smoke mode against the built-in ssehub server.
func TestSmoke(t *testing.T) {
	res, code := runLoad(t, "--smoke")
	checkComplete(t, res, code, 200, 1)
}

// TestWorkers spreads the connections over child processes, on a
// channel target.
func TestWorkers(t *testing.T) {
	res, code := runLoad(t, "--smoke", "--n=120", "--workers=3", "--target=channel", "--groups=4", "--duration=2s")
	checkComplete(t, res, code, 120, 4)
}

// TestProbe measures /healthz while the smoke run publishes: about
// probe-rate × duration samples, each a real round trip.
func TestProbe(t *testing.T) {
	res, code := runLoad(t, "--smoke", "--duration=2s", "--probe-rate=50")
	checkComplete(t, res, code, 200, 1)
	if res.ProbeUs == nil || res.ProbeUs.Count < 40 || res.ProbeUs.Count > 200 || res.ProbeUs.P50 <= 0 {
		t.Fatalf("probe_us %+v: want about 100 samples over 2 s at 50/s", res.ProbeUs)
	}
}

// TestDetectsLoss runs against a server that drops one event for every
// other connection: the run must fail and count the losses.
func TestDetectsLoss(t *testing.T) {
	srv := httptest.NewServer(newLossyServer(3))
	defer srv.Close()
	res, code := runLoad(t, "--url", srv.URL, "--n=10", "--rate=50", "--duration=500ms",
		"--settle=100ms", "--drain-idle=300ms")
	if code != 1 || res.OK {
		t.Errorf("exit %d, ok %v: want 1, false", code, res.OK)
	}
	if res.Published < 3 {
		t.Fatalf("published %d, want at least 3", res.Published)
	}
	if res.Lost != 5 || res.ConnsWithLoss != 5 || res.Gaps != 5 {
		t.Errorf("lost %d in %d connections, gaps %d: want 5, 5, 5", res.Lost, res.ConnsWithLoss, res.Gaps)
	}
}

// TestSeveralURLs spreads the connections over two servers that share one
// set of subscribers (as the nodes of a cluster share a broker): each gets
// half, with its own Host header, publishes go to the first, and the
// figures of both pids are reported.
func TestSeveralURLs(t *testing.T) {
	shared := newLossyServer(0) // drops nothing: sequence numbers start at 1
	var mu sync.Mutex
	hosts := map[string]int{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/sse" {
			mu.Lock()
			hosts[r.Host]++
			mu.Unlock()
		}
		shared.ServeHTTP(w, r)
	})
	a, b := httptest.NewServer(h), httptest.NewServer(h)
	defer a.Close()
	defer b.Close()
	pid := strconv.Itoa(os.Getpid())
	res, code := runLoad(t, "--url", a.URL+","+b.URL, "--server-pid", pid+","+pid, "--n=10", "--workers=2",
		"--rate=50", "--duration=500ms", "--settle=100ms", "--drain-idle=300ms")
	if code != 0 || !res.OK || res.Connected != 10 || res.Lost != 0 {
		t.Errorf("exit %d, ok %v, connected %d, lost %d: want 0, true, 10, 0", code, res.OK, res.Connected, res.Lost)
	}
	if len(res.ServerPIDs) != 2 || len(res.Nodes) != 2 {
		t.Fatalf("server pids %v, nodes %+v: want 2 of each", res.ServerPIDs, res.Nodes)
	}
	for j, u := range []string{a.URL, b.URL} {
		n := res.Nodes[j]
		if n.URL != u || n.Connected != 5 || n.PID != os.Getpid() || n.RSSAfter <= 0 {
			t.Errorf("node %d: %+v: want url %s, 5 connected, pid %d, rss measured", j, n, u, os.Getpid())
		}
		if got := hosts[strings.TrimPrefix(u, "http://")]; got != 5 {
			t.Errorf("node %d: %d streams with its Host header, want 5", j, got)
		}
	}
}

// lossyServer is a minimal SSE server with ssehub's paths that never sends
// event number drop to its odd-numbered subscribers.
type lossyServer struct {
	drop int
	mu   sync.Mutex
	subs []chan []byte
	seq  int
}

func newLossyServer(drop int) *lossyServer { return &lossyServer{drop: drop} }

func (s *lossyServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/api/sse":
		ch := make(chan []byte, 256)
		s.mu.Lock()
		odd := len(s.subs)%2 == 1
		s.subs = append(s.subs, ch)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		for {
			select {
			case ev := <-ch:
				if odd && bytes.Contains(ev, fmt.Appendf(nil, `"s":%d,`, s.drop)) {
					continue
				}
				_, _ = w.Write(ev)
				w.(http.Flusher).Flush()
			case <-r.Context().Done():
				return
			}
		}
	case "/api/events":
		var req struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.seq++
		ev := fmt.Appendf(nil, "id: %d\nevent: bench\ndata: %s\n\n", s.seq, req.Data)
		for _, ch := range s.subs {
			select {
			case ch <- ev:
			case <-time.After(time.Second):
			}
		}
		s.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"id":"%d"}`, s.seq)
	default:
		http.NotFound(w, r)
	}
}
