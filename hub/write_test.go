package hub_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/hub"
)

// bufRecorder is a framed hub.TryWriter that notes where the bytes of each
// buffer it is handed live.
type bufRecorder struct {
	mu    sync.Mutex
	seen  [][]byte // buffers handed to TryWrite, as they were
	total bytes.Buffer
}

func (r *bufRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total.Write(p)
}
func (r *bufRecorder) Flush() error                     { return nil }
func (r *bufRecorder) SetWriteDeadline(time.Time) error { return nil }
func (r *bufRecorder) Frame(dst []byte, n int) (head, tail []byte) {
	return append(dst, '['), []byte("]")
}
func (r *bufRecorder) TryWrite(bufs [][]byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, p := range bufs {
		r.seen = append(r.seen, p)
		r.total.Write(p)
		n += len(p)
	}
	return n, nil
}

// find returns the buffer that holds marker, or nil.
func (r *bufRecorder) find(marker []byte) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.seen {
		if bytes.Contains(p, marker) {
			return p
		}
	}
	return nil
}

// TestFramesWrittenWithoutCopy fans one event out to two connections:
// both transports are handed the same bytes, the frame encoded once, with
// each transport's framing in buffers of their own around it.
func TestFramesWrittenWithoutCopy(t *testing.T) {
	h, err := hub.New(hub.Config{MaxConnsPerUser: -1, Heartbeat: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Shutdown(context.Background())
	var rs []*bufRecorder
	for range 2 {
		c, err := h.Connect(hub.ConnInfo{TenantID: "t", UserID: "u"})
		if err != nil {
			t.Fatal(err)
		}
		r := &bufRecorder{}
		c.Start(context.Background(), r, func(string) {})
		rs = append(rs, r)
	}
	marker := []byte(`"shared-frame-marker"`)
	if _, err := h.Publish(context.Background(), broker.Message{Event: "e", TenantID: "t", Data: marker, Target: broker.Target{Kind: broker.ToTenant}}); err != nil {
		t.Fatal(err)
	}
	var got [2][]byte
	deadline := time.Now().Add(5 * time.Second)
	for i, r := range rs {
		for got[i] = r.find(marker); got[i] == nil; got[i] = r.find(marker) {
			if time.Now().After(deadline) {
				t.Fatalf("connection %d: the event was not written", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
	if unsafe.SliceData(got[0]) != unsafe.SliceData(got[1]) {
		t.Fatalf("the two connections were handed different copies of the frame (%p, %p)", unsafe.SliceData(got[0]), unsafe.SliceData(got[1]))
	}
	for i, r := range rs {
		r.mu.Lock()
		out := r.total.String()
		r.mu.Unlock()
		if want := "[" + string(got[0]) + "]"; !bytes.Contains([]byte(out), []byte(want)) {
			t.Fatalf("connection %d wrote %q, want the frame inside its framing %q", i, out, want)
		}
	}
}
