package hub_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/hub"
)

// sink is a hub.TryWriter. A stalled one takes the first bytes (written
// before the hand-over) and then nothing; a live one takes everything.
type sink struct {
	stalled bool
	mu      sync.Mutex
	n       int
	tries   int // TryWrite calls
}

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n += len(p)
	return len(p), nil
}
func (s *sink) Flush() error                     { return nil }
func (s *sink) SetWriteDeadline(time.Time) error { return nil }
func (s *sink) TryWrite(bufs [][]byte) (int, error) {
	s.mu.Lock()
	s.tries++
	s.mu.Unlock()
	if s.stalled {
		return 0, nil
	}
	n := 0
	for _, p := range bufs {
		m, _ := s.Write(p)
		n += m
	}
	return n, nil
}

// TestNodeQueueBudgetShedsFurthestBehind passes the node's queue budget
// with two stalled connections, one further behind than the other: the
// one furthest behind is closed as a slow consumer, and only it; the
// other stalled one and a reading one stay.
func TestNodeQueueBudgetShedsFurthestBehind(t *testing.T) {
	h, err := hub.New(hub.Config{MaxConns: -1, MaxConnsPerUser: -1, Heartbeat: time.Hour, NodeQueueBytes: 64 << 10, WriteTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Shutdown(context.Background())
	var mu sync.Mutex
	closed := map[string]string{}
	start := func(name string, w *sink) {
		c, err := h.Connect(hub.ConnInfo{TenantID: "t", UserID: name})
		if err != nil {
			t.Fatal(err)
		}
		c.Start(context.Background(), w, func(reason string) {
			mu.Lock()
			closed[name] = reason
			mu.Unlock()
		})
	}
	pad := strings.Repeat("x", 4000)
	live := &sink{}
	got := func() int { live.mu.Lock(); defer live.mu.Unlock(); return live.n }
	publish := func(n int) {
		for range n {
			before := got()
			if _, err := h.Publish(context.Background(), broker.Message{Event: "e", TenantID: "t",
				Data: []byte(`{"pad":"` + pad + `"}`), Target: broker.Target{Kind: broker.ToTenant}}); err != nil {
				t.Fatal(err)
			}
			// The live reader keeps up: it is never the one behind.
			for deadline := time.Now().Add(5 * time.Second); got() == before; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the live reader got nothing")
				}
			}
		}
	}
	start("live", live)
	start("far", &sink{stalled: true})
	publish(8) // far: about 32 KB behind
	start("near", &sink{stalled: true})
	publish(8) // far about 64 KB behind, near 32 KB: over the 64 KiB budget
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		done := closed["far"] != ""
		mu.Unlock()
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if closed["far"] != hub.ReasonSlowConsumer || len(closed) != 1 {
		t.Fatalf("closed: %v, want far only, as %s", closed, hub.ReasonSlowConsumer)
	}
	s := h.Stats()
	if s.Shed != 1 || s.TotalClients != 2 {
		t.Fatalf("stats: shed %d, %d clients; want 1 shed, 2 clients", s.Shed, s.TotalClients)
	}
	if s.QueuedBytes <= 0 || s.QueuedBytes > 48<<10 {
		t.Fatalf("queued after shedding: %d bytes, want near's backlog, under 48 KiB", s.QueuedBytes)
	}
}

// TestFullSocketBacksOff leaves an event on a socket that takes nothing
// for 1.5 s: the writers try it again later and later (20 ms doubling up
// to 320 ms: 7 tries in that time), not every 20 ms (75 tries).
func TestFullSocketBacksOff(t *testing.T) {
	h, err := hub.New(hub.Config{Heartbeat: time.Hour, WriteTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Shutdown(context.Background())
	c, err := h.Connect(hub.ConnInfo{TenantID: "t", UserID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	w := &sink{stalled: true}
	c.Start(context.Background(), w, func(string) {})
	if _, err := h.Publish(context.Background(), broker.Message{Event: "e", TenantID: "t", Data: []byte(`1`), Target: broker.Target{Kind: broker.ToTenant}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	w.mu.Lock()
	tries := w.tries
	w.mu.Unlock()
	if tries < 3 || tries > 12 {
		t.Fatalf("TryWrite called %d times in 1.5 s on a socket that takes nothing, want 3 to 12", tries)
	}
}
