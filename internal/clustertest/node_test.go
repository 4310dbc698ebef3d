package clustertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/hub"
)

// tailBuffer keeps the last max bytes written to it; it collects a child
// process's output for the failure report.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (w *tailBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	if over := len(w.b) - w.max; over > 0 {
		w.b = append(w.b[:0], w.b[over:]...)
	}
	return len(p), nil
}

func (w *tailBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.b)
}

// node is one ssehub process of a cluster.
type node struct {
	t    testing.TB
	id   string
	addr string
	url  string
	hc   *http.Client
	cmd  *exec.Cmd
	out  *tailBuffer
	// exited is closed when the process has exited and been reaped.
	exited chan struct{}

	// inflight is held for reading by every publish to the node and for
	// writing by kill, so that no publish is in flight when the node dies
	// and the publish log holds exactly the events that were answered.
	inflight sync.RWMutex
	dead     atomic.Bool
}

// startNodes starts n nodes (n1, n2, …) on the engine e, in parallel, with
// the flags every test uses plus extra, waits until each answers /readyz
// with 200, and warms them up (see warmUp). They are killed at cleanup.
func startNodes(t testing.TB, e engine, n int, extra ...string) []*node {
	t.Helper()
	nodes := launchNodes(t, e, n, extra...)
	warmUp(t, nodes)
	return nodes
}

// warmUp makes sure that each node's sse:ready carries the log position,
// so that a client that drops before its first event can resume: it
// publishes one broadcast (outside any publish log) and waits until a
// fresh connection on every node gets an sse:ready with an id.
//
// Nodes once sent sse:ready without an id until they had dispatched an
// event (see TestReadyCarriesLogPositionOnFreshNode); the warm-up keeps
// the other tests about other things. It also lets every node hear of the
// others.
func warmUp(t testing.TB, nodes []*node) {
	t.Helper()
	st, body, err := nodes[0].do("POST", "/api/events", adminToken(t), map[string]any{
		"event": "ct:warmup", "data": map[string]any{}, "target": map[string]any{"broadcast": true},
	})
	if err != nil || st != http.StatusAccepted {
		t.Fatalf("warm-up publish on %s: %d %v %s", nodes[0].id, st, err, body)
	}
	hc := httpClient(t)
	for _, nd := range nodes {
		probe := newClient(t, hc, "t0", "warmup")
		ok := poll(10*time.Second, func() bool {
			if err := probe.connect(nd); err != nil {
				return false
			}
			probe.disconnect()
			return probe.lastID() != ""
		})
		if !ok {
			t.Fatalf("node %s: sse:ready of a fresh connection has no id 10s after an event was published", nd.id)
		}
	}
}

// launchNodes starts n nodes and waits until each answers /readyz with
// 200.
func launchNodes(t testing.TB, e engine, n int, extra ...string) []*node {
	t.Helper()
	bin := binary(t)
	hc := httpClient(t)
	nodes := make([]*node, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// A free port may be taken by another process before the node
			// binds it: try again on another one.
			for try := 0; ; try++ {
				port, err := pickPort()
				if err != nil {
					errs[i] = err
					return
				}
				nd := &node{t: t, id: fmt.Sprintf("n%d", i+1), hc: hc, out: &tailBuffer{max: 32 << 10}, exited: make(chan struct{})}
				nd.addr = "127.0.0.1:" + strconv.Itoa(port)
				nd.url = "http://" + nd.addr
				args := []string{
					"--addr", nd.addr, "--jwt-secret", secret, "--broker", e.url, "--node-id", nd.id,
					"--heartbeat", "200ms", "--log-level", "warn", "--publisher-rate", "-1",
				}
				nd.cmd = exec.Command(bin, append(args, extra...)...)
				nd.cmd.Stdout, nd.cmd.Stderr = nd.out, nd.out
				nd.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
				if err := nd.cmd.Start(); err != nil {
					errs[i] = err
					return
				}
				go func() {
					_ = nd.cmd.Wait()
					close(nd.exited)
				}()
				nodes[i] = nd
				errs[i] = nd.waitReady(30 * time.Second)
				if errs[i] == nil || try == 2 || !strings.Contains(nd.out.String(), "address already in use") {
					return
				}
				nd.kill()
			}
		})
	}
	wg.Wait()
	for _, nd := range nodes {
		if nd != nil {
			t.Cleanup(func() {
				nd.kill()
				if t.Failed() {
					t.Logf("node %s output (last 32 KiB):\n%s", nd.id, nd.out.String())
				}
			})
		}
	}
	for i, err := range errs {
		if err != nil {
			out := ""
			if nodes[i] != nil {
				out = nodes[i].out.String()
			}
			t.Fatalf("node n%d: %v\n%s", i+1, err, out)
		}
	}
	return nodes
}

// waitReady waits until /readyz answers 200 and the node that answers is
// this one: another process may have taken its port.
func (nd *node) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	admin, _ := auth.Mint([]byte(secret), auth.Claims{Subject: "ops", Roles: []string{auth.RoleAdmin}, Global: true}, time.Hour)
	for {
		select {
		case <-nd.exited:
			return fmt.Errorf("exited before it was ready")
		default:
		}
		if st, _ := nd.readyz(); st == http.StatusOK {
			st, body, err := nd.do("GET", "/api/sse/stats", admin, nil)
			var s hub.Stats
			if err == nil && st == http.StatusOK && json.Unmarshal(body, &s) == nil && s.NodeID == nd.id {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready within %v", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readyz returns the status of GET /readyz and its error code, if any.
func (nd *node) readyz() (int, string) {
	st, body, err := nd.do("GET", "/readyz", "", nil)
	if err != nil {
		return 0, err.Error()
	}
	return st, errorCode(body)
}

// kill ends the node with SIGKILL and waits until it is gone. Publishes in
// flight to it finish first.
func (nd *node) kill() {
	nd.inflight.Lock()
	defer nd.inflight.Unlock()
	nd.dead.Store(true)
	if nd.cmd.Process != nil {
		_ = nd.cmd.Process.Signal(syscall.SIGKILL)
	}
	select {
	case <-nd.exited:
	case <-time.After(10 * time.Second):
		nd.t.Errorf("node %s did not exit within 10s of SIGKILL", nd.id)
	}
}

// do sends one request and returns the status and body.
func (nd *node) do(method, path, tok string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, nd.url+path, r)
	if err != nil {
		return 0, nil, err
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := nd.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// errorCode returns the code of a JSON error body, or "".
func errorCode(body []byte) string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Error.Code
}

// stats returns GET /api/sse/stats of the node (the cluster's, gathered).
func (nd *node) stats(t testing.TB) hub.Stats {
	t.Helper()
	st, body, err := nd.do("GET", "/api/sse/stats", adminToken(t), nil)
	if err != nil || st != http.StatusOK {
		t.Fatalf("stats from %s: %d %v %s", nd.id, st, err, body)
	}
	var s hub.Stats
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("stats from %s: %v: %s", nd.id, err, body)
	}
	return s
}

// nodeIDs returns the node ids of the stats' Nodes, in order.
func nodeIDs(s hub.Stats) string {
	var ids []string
	for _, n := range s.Nodes {
		ids = append(ids, n.NodeID)
	}
	return strings.Join(ids, ",")
}
