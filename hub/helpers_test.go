package hub_test

import (
	"bytes"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssehub/ssehub/sse"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// recorder is an in-memory hub.Writer that keeps what was written.
type recorder struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	events atomic.Int64 // frames with an id seen so far
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events.Add(int64(bytes.Count(p, []byte("\nid: ")) + boolInt(bytes.HasPrefix(p, []byte("id: ")))))
	return r.buf.Write(p)
}
func (r *recorder) Flush() error                     { return nil }
func (r *recorder) SetWriteDeadline(time.Time) error { return nil }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// decoded returns every event and comment written so far.
func (r *recorder) decoded(t *testing.T) []sse.Event {
	t.Helper()
	r.mu.Lock()
	data := slices.Clone(r.buf.Bytes())
	r.mu.Unlock()
	dec := sse.NewDecoder(bytes.NewReader(data))
	dec.Comments = true
	var out []sse.Event
	for ev, err := range dec.Events() {
		if err != nil && err != io.EOF {
			t.Fatalf("decode: %v", err)
		}
		out = append(out, ev)
	}
	return out
}

// ids returns the ids of the non-control events, in order.
func (r *recorder) ids(t *testing.T) []string {
	var out []string
	for _, ev := range r.decoded(t) {
		if ev.Name != "" && ev.ID != "" && !bytes.HasPrefix([]byte(ev.Name), []byte("sse:")) {
			out = append(out, ev.ID)
		}
	}
	return slices.Compact(out) // control events after an event repeat its id
}
