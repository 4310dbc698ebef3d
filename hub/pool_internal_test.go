package hub

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ssehub/ssehub/broker"
)

// trickle is a TryWriter whose socket takes at most 7 bytes per write,
// so every write of a frame is cut short many times.
type trickle struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (t *trickle) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.Write(p)
}
func (t *trickle) TryWrite(bufs [][]byte) (int, error) {
	for _, p := range bufs {
		if len(p) > 0 {
			return t.Write(p[:min(len(p), 7)])
		}
	}
	return 0, nil
}
func (t *trickle) Flush() error                     { return nil }
func (t *trickle) SetWriteDeadline(time.Time) error { return nil }
func (t *trickle) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

// TestCutShortWritesResumeInOrder writes events through a socket that
// takes a few bytes at a time, with retries due at once: the stream comes
// out byte for byte in order, and (under -race) a retry never runs while
// the writer that cut the write short is still on it.
func TestCutShortWritesResumeInOrder(t *testing.T) {
	defer func(d time.Duration) { poolSlice = d }(poolSlice)
	poolSlice = 0
	h, err := New(Config{MaxConns: -1, MaxConnsPerUser: -1, Heartbeat: time.Hour, Writers: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Shutdown(context.Background())
	const n = 40
	var ws []*trickle
	for range 3 {
		c, err := h.Connect(ConnInfo{TenantID: "t", UserID: "u"})
		if err != nil {
			t.Fatal(err)
		}
		w := &trickle{}
		c.Start(context.Background(), w, func(string) {})
		ws = append(ws, w)
	}
	var want bytes.Buffer
	for i := range n {
		data := fmt.Sprintf(`{"i":%d,"pad":"%0100d"}`, i, i)
		ids, err := h.Publish(context.Background(), broker.Message{Event: "e", TenantID: "t", Data: []byte(data), Target: broker.Target{Kind: broker.ToTenant}})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&want, "id: %s\nevent: e\ndata: %s\n\n", ids[0], data)
	}
	for i, w := range ws {
		deadline := time.Now().Add(10 * time.Second)
		for !bytes.HasSuffix([]byte(w.String()), want.Bytes()) {
			if time.Now().After(deadline) {
				t.Fatalf("stream %d: the events did not arrive whole and in order; got %d bytes", i, len(w.String()))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}
