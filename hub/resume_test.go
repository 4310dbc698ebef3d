package hub_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/hub"
)

// gatedWriter blocks its first write after the first one (the sse:ready)
// until released, so that events can be published while a replay is being
// written.
type gatedWriter struct {
	recorder
	once    sync.Once
	writes  int
	blocked chan struct{}
	release chan struct{}
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	g.writes++
	if g.writes == 2 {
		g.once.Do(func() { close(g.blocked) })
		<-g.release
	}
	return g.recorder.Write(p)
}

// TestResumeSeam publishes events at every moment of a resume: before the
// connection registers, between registering and the replay's read of the
// log, and while the replay is being written. Each must arrive exactly once,
// in order.
func TestResumeSeam(t *testing.T) {
	ctx := context.Background()
	h := newHub(t, hub.Config{QueueSize: 10_000})
	pub := func(n int, tag string) []string {
		var ids []string
		for i := range n {
			got, err := h.Publish(ctx, broker.Message{Event: "e", TenantID: "t1", Data: fmt.Appendf(nil, `"%s%d"`, tag, i), Target: broker.Target{Kind: broker.ToTenant}})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, got...)
		}
		return ids
	}
	before := pub(3000, "before") // the client saw before[0] only
	c, err := h.Connect(hub.ConnInfo{TenantID: "t1", UserID: "u1", LastEventID: before[0]})
	if err != nil {
		t.Fatal(err)
	}
	between := pub(500, "between") // in the log and in the queue: replayed, and skipped live
	w := &gatedWriter{blocked: make(chan struct{}), release: make(chan struct{})}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan string, 1)
	go func() { done <- c.Serve(sctx, w) }()
	<-w.blocked               // the replay has read the log and is writing
	during := pub(500, "dur") // only in the queue
	close(w.release)
	want := slices.Concat(before[1:], between, during)
	deadline := time.Now().Add(10 * time.Second)
	for w.events.Load() < int64(len(want)) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	cancel()
	<-done
	if got := w.ids(t); !slices.Equal(got, want) {
		t.Fatalf("got %d events, want %d exactly once in order (first difference at %d)", len(got), len(want), firstDiff(got, want))
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
