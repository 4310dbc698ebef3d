package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// A worker holds a range of the connections: in this process (local) or
// in a child process (remote, for --workers > 1, so that the connections
// of one run can exceed one process's file limit).
type worker interface {
	connect(ctx context.Context) error
	progress() progress
	drain(ctx context.Context, expected []int64, idle time.Duration) (workerResult, error)
	close()
}

// workerSpec is what a worker is told; a child reads it as the first line
// of its standard input.
type workerSpec struct {
	Servers  []string `json:"servers"` // ip:port each, in --url order
	Lo       int      `json:"lo"`
	Hi       int      `json:"hi"`
	Loops    int      `json:"loops"`
	Inflight int      `json:"inflight"`
	Workload workload `json:"workload"`
}

// workerResult is a worker's tally. Histograms are HdrHistogram V2
// compressed, base64.
type workerResult struct {
	Expected      int64          `json:"expected"`
	Deliveries    int64          `json:"deliveries"`
	Lost          int64          `json:"lost"`
	ConnsWithLoss int64          `json:"conns_with_loss"`
	Gaps          int64          `json:"gaps"`
	Dupes         int64          `json:"dupes"`
	IDErrors      int64          `json:"id_errors"`
	BadPayload    int64          `json:"bad_payload"`
	CPUSecs       float64        `json:"cpu_secs"`
	DoneAtNs      int64          `json:"done_at_ns"`
	Latency       string         `json:"latency"`
	Connect       string         `json:"connect"`
	Progress      progress       `json:"progress"`
	Errors        map[string]int `json:"errors,omitempty"`
}

func encodeHist(h *hdr.Histogram) string {
	b, err := h.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil {
		return ""
	}
	return string(b)
}

func decodeHist(s string) *hdr.Histogram {
	if s == "" {
		return newLatencyHist()
	}
	h, err := hdr.Decode([]byte(s))
	if err != nil {
		return newLatencyHist()
	}
	return h
}

func (s workerSpec) recvConfig() (recvConfig, error) {
	if len(s.Servers) == 0 {
		return recvConfig{}, errors.New("worker spec: no server")
	}
	aps := make([]netip.AddrPort, len(s.Servers))
	for i, srv := range s.Servers {
		ap, err := netip.ParseAddrPort(srv)
		if err != nil {
			return recvConfig{}, err
		}
		aps[i] = ap
	}
	wl := s.Workload
	m := wl.minter()
	return recvConfig{
		Servers: aps, Lo: s.Lo, Hi: s.Hi, Groups: wl.groups(), Loops: s.Loops, Inflight: s.Inflight,
		Request: func(i int) []byte { return wl.request(m, i) },
	}, nil
}

// localWorker runs a receiver in this process.
type localWorker struct{ r *receiver }

func newLocalWorker(spec workerSpec) (*localWorker, error) {
	cfg, err := spec.recvConfig()
	if err != nil {
		return nil, err
	}
	r, err := newReceiver(cfg)
	if err != nil {
		return nil, err
	}
	return &localWorker{r}, nil
}

func (w *localWorker) connect(ctx context.Context) error { w.r.connect(ctx); return ctx.Err() }
func (w *localWorker) progress() progress                { return w.r.progress() }
func (w *localWorker) close()                            { w.r.close() }
func (w *localWorker) drain(ctx context.Context, expected []int64, idle time.Duration) (workerResult, error) {
	return w.r.drain(ctx, expected, idle), nil
}

// The child's messages on its standard output, one JSON object a line.
type workerMsg struct {
	Type     string        `json:"type"` // progress, connected, result, error
	Progress *progress     `json:"progress,omitempty"`
	Result   *workerResult `json:"result,omitempty"`
	Error    string        `json:"error,omitempty"`
}

// The parent's commands on the child's standard input, after the spec.
// Closing the input makes the child close its connections and exit.
type workerCmd struct {
	Cmd      string  `json:"cmd"` // drain
	Expected []int64 `json:"expected"`
	IdleMs   int64   `json:"idle_ms"`
}

// remoteWorker is a child process running workerMain.
type remoteWorker struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	enc   *json.Encoder

	mu        sync.Mutex
	last      progress
	connected chan struct{}
	result    chan workerResult
	failed    chan error
	exited    chan struct{}
}

func startRemoteWorker(spec workerSpec, stderr io.Writer) (*remoteWorker, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), roleEnv+"=worker")
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	w := &remoteWorker{
		cmd: cmd, stdin: stdin, enc: json.NewEncoder(stdin),
		connected: make(chan struct{}), result: make(chan workerResult, 1),
		failed: make(chan error, 1), exited: make(chan struct{}),
	}
	go w.read(stdout)
	if err := w.enc.Encode(spec); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

func (w *remoteWorker) read(stdout io.Reader) {
	defer close(w.exited)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	connected := false
	for sc.Scan() {
		var m workerMsg
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			continue
		}
		switch m.Type {
		case "progress":
			w.mu.Lock()
			w.last = *m.Progress
			w.mu.Unlock()
		case "connected":
			if m.Progress != nil {
				w.mu.Lock()
				w.last = *m.Progress
				w.mu.Unlock()
			}
			if !connected {
				connected = true
				close(w.connected)
			}
		case "result":
			w.result <- *m.Result
		case "error":
			w.failed <- errors.New(m.Error)
		}
	}
	select {
	case w.failed <- fmt.Errorf("worker %d exited", w.cmd.Process.Pid):
	default:
	}
}

func (w *remoteWorker) connect(ctx context.Context) error {
	select {
	case <-w.connected:
		return nil
	case err := <-w.failed:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *remoteWorker) progress() progress {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

func (w *remoteWorker) drain(ctx context.Context, expected []int64, idle time.Duration) (workerResult, error) {
	if err := w.enc.Encode(workerCmd{Cmd: "drain", Expected: expected, IdleMs: idle.Milliseconds()}); err != nil {
		return workerResult{}, err
	}
	select {
	case r := <-w.result:
		return r, nil
	case err := <-w.failed:
		return workerResult{}, err
	case <-ctx.Done():
		return workerResult{}, ctx.Err()
	}
}

func (w *remoteWorker) close() {
	_ = w.stdin.Close()
	select {
	case <-w.exited:
	case <-time.After(10 * time.Second):
		_ = w.cmd.Process.Kill()
	}
	_ = w.cmd.Wait()
}

// workerMain is the child side: it reads the spec, connects, reports
// progress, drains when told, and exits when its input closes.
func workerMain(stdin io.Reader, stdout, stderr io.Writer) int {
	if _, err := raiseNofile(); err != nil {
		fmt.Fprintln(stderr, "ssehub-load worker: raise RLIMIT_NOFILE:", err)
	}
	var outMu sync.Mutex
	enc := json.NewEncoder(stdout)
	send := func(m workerMsg) {
		outMu.Lock()
		defer outMu.Unlock()
		_ = enc.Encode(m)
	}
	dec := json.NewDecoder(bufio.NewReader(stdin))
	var spec workerSpec
	if err := dec.Decode(&spec); err != nil {
		send(workerMsg{Type: "error", Error: "worker spec: " + err.Error()})
		return 2
	}
	w, err := newLocalWorker(spec)
	if err != nil {
		send(workerMsg{Type: "error", Error: err.Error()})
		return 1
	}
	defer w.close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Commands, and the end of input, which also ends the worker when the
	// parent dies.
	cmds := make(chan workerCmd)
	go func() {
		defer close(cmds)
		for {
			var c workerCmd
			if err := dec.Decode(&c); err != nil {
				return
			}
			cmds <- c
		}
	}()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	go func() {
		for {
			select {
			case <-tick.C:
				p := w.progress()
				send(workerMsg{Type: "progress", Progress: &p})
			case <-ctx.Done():
				return
			}
		}
	}()
	connectDone := make(chan struct{})
	go func() {
		defer close(connectDone)
		_ = w.connect(ctx)
		p := w.progress()
		send(workerMsg{Type: "connected", Progress: &p})
	}()
	for c := range cmds {
		if c.Cmd == "drain" {
			<-connectDone
			r, _ := w.drain(ctx, c.Expected, time.Duration(c.IdleMs)*time.Millisecond)
			send(workerMsg{Type: "result", Result: &r})
		}
	}
	cancel()
	<-connectDone
	return 0
}
