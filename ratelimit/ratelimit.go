package ratelimit

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Mode is what happens to events over the limit.
type Mode uint8

// The modes.
const (
	Drop Mode = iota + 1
	Coalesce
)

// ParseMode reads "drop" or "coalesce".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "drop":
		return Drop, nil
	case "coalesce":
		return Coalesce, nil
	}
	return 0, fmt.Errorf("ratelimit: unknown mode %q (want drop or coalesce)", s)
}

func (m Mode) String() string {
	switch m {
	case Drop:
		return "drop"
	case Coalesce:
		return "coalesce"
	}
	return "unknown"
}

// Rule limits one event name.
type Rule struct {
	// Interval is the least time between two deliveries to one target.
	Interval time.Duration
	Mode     Mode
	// By names a field of the payload whose value separates the limit's
	// windows: a JSON pointer ("/userId") or a dotted path ("userId",
	// "sender.id"). With By, the limit applies per target and per value of
	// that field, so in a group chat each sender's latest chat:typing
	// reaches the listeners. Empty means one window per target. A payload
	// without the field shares the window of the other payloads without it.
	By string
}

// Defaults returns the seed's limits: chat:typing 1/s and presence:update
// 1/5s, both coalesced per user (the payload's userId), so one user's
// latest state never hides another's.
func Defaults() map[string]Rule {
	return map[string]Rule{
		"chat:typing":     {Interval: time.Second, Mode: Coalesce, By: "userId"},
		"presence:update": {Interval: 5 * time.Second, Mode: Coalesce, By: "userId"},
	}
}

// ParseRules reads "name=interval:mode[:by],…", e.g.
// "chat:typing=1s:coalesce:userId,bulk:import=10s:drop".
func ParseRules(s string) (map[string]Rule, error) {
	out := map[string]Rule{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, spec, ok := strings.Cut(part, "=")
		iv, rest, ok2 := strings.Cut(spec, ":")
		mode, by, _ := strings.Cut(rest, ":")
		if !ok || !ok2 || name == "" {
			return nil, fmt.Errorf("ratelimit: %q: want name=interval:mode[:by]", part)
		}
		d, err := time.ParseDuration(iv)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("ratelimit: %q: bad interval %q", part, iv)
		}
		m, err := ParseMode(mode)
		if err != nil {
			return nil, err
		}
		if _, err := ParseField(by); err != nil {
			return nil, fmt.Errorf("ratelimit: %q: %w", part, err)
		}
		out[name] = Rule{Interval: d, Mode: m, By: by}
	}
	return out, nil
}

// ParseField splits a Rule.By field into its segments: a JSON pointer
// ("/a/b", with ~0 and ~1 escapes) or a dotted path ("a.b"). Empty is no
// field.
func ParseField(by string) ([]string, error) {
	if by == "" {
		return nil, nil
	}
	var segs []string
	if strings.HasPrefix(by, "/") {
		for s := range strings.SplitSeq(by[1:], "/") {
			segs = append(segs, strings.NewReplacer("~1", "/", "~0", "~").Replace(s))
		}
	} else {
		segs = strings.Split(by, ".")
	}
	for _, s := range segs {
		if s == "" {
			return nil, fmt.Errorf("field %q has an empty segment", by)
		}
	}
	return segs, nil
}

// Decision is what happens to one event.
type Decision uint8

// The decisions.
const (
	Pass    Decision = iota // publish it now
	Held                    // coalesced: it (or a later one) is published at the window's end
	Dropped                 // refused
)

// Item is one event to decide on: its name, the key of its target (tenant
// and target, see broker.Target.Key), its JSON payload (read only for a
// rule with By) and the value to flush when coalesced.
type Item[V any] struct {
	Event string
	Key   string
	Data  []byte
	Value V
}

// ErrDropped is returned by Decide when a drop-mode rule refuses an event.
var ErrDropped = errors.New("ratelimit: over the limit")

// The bounds of a limiter's coalescing state. Past either, a coalesced
// event passes at once instead of being held: over the bound the limit is
// not applied, but no event is ever lost.
const (
	// MaxWindows caps the open coalescing windows (one per event, target
	// and By value seen within an interval); a window costs about 200 bytes.
	MaxWindows = 1 << 18
	// MaxHeldBytes caps the payload bytes of the values held to the end of
	// their window.
	MaxHeldBytes = 32 << 20
	// maxByValue is the longest By value used as is in a key; longer ones
	// are hashed.
	maxByValue = 128
)

// Limiter applies rules per event name and target. It is safe for
// concurrent use. The ends of coalescing windows are kept in one heap and
// handled by one goroutine the limiter owns (started with the first
// window, stopped by Close), which hands each batch of held values to
// flush.
type Limiter[V any] struct {
	rules map[string]Rule
	by    map[string][]string // parsed Rule.By
	flush func([]V)

	mu      sync.Mutex
	drops   map[string]*rate.Limiter
	windows map[string]*window[V]
	ends    endHeap[V]
	held    int // payload bytes held
	calls   int
	closed  bool
	started bool
	wake    chan struct{} // the earliest end moved earlier
	done    chan struct{} // closed by Close
	stopped chan struct{} // closed when run returns
}

type window[V any] struct {
	key      string
	end      time.Time
	interval time.Duration
	pending  *V
	size     int // payload bytes of pending
	index    int // in the heap
}

// New returns a limiter. flush receives the values held to the end of
// their windows, in batches, on the limiter's goroutine and outside its
// lock; values of one key arrive in order. Rules whose By does not parse
// (see ParseField) limit per target only.
func New[V any](rules map[string]Rule, flush func([]V)) *Limiter[V] {
	l := &Limiter[V]{
		rules:   rules,
		by:      map[string][]string{},
		flush:   flush,
		drops:   map[string]*rate.Limiter{},
		windows: map[string]*window[V]{},
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	for name, r := range rules {
		if segs, err := ParseField(r.By); err == nil && segs != nil {
			l.by[name] = segs
		}
	}
	return l
}

// Rule returns the rule of an event name and whether it has one.
func (l *Limiter[V]) Rule(event string) (Rule, bool) {
	r, ok := l.rules[event]
	return r, ok
}

// key is the state key of an item: event, target and By value.
func (l *Limiter[V]) key(it Item[V]) string {
	k := it.Event + "\x00" + it.Key
	segs := l.by[it.Event]
	if segs == nil {
		return k
	}
	v := fieldValue(it.Data, segs)
	if len(v) > maxByValue {
		f := fnv.New64a()
		f.Write(v)
		return k + "\x00#" + strconv.FormatUint(f.Sum64(), 36)
	}
	return k + "\x00=" + string(v)
}

// fieldValue returns the raw JSON of the field at segs in data, or nil.
func fieldValue(data []byte, segs []string) []byte {
	raw := json.RawMessage(data)
	for _, s := range segs {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil
		}
		var ok bool
		if raw, ok = obj[s]; !ok {
			return nil
		}
	}
	return bytes.TrimSpace(raw)
}

// Decide decides on a batch as one unit: when any item is dropped it
// returns ErrDropped (wrapped with the item's index) and changes nothing;
// otherwise it returns one decision per item and records them.
func (l *Limiter[V]) Decide(now time.Time, items []Item[V]) ([]Decision, error) {
	out := make([]Decision, len(items))
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return out, nil // limits end with the limiter; nothing is held any more
	}
	l.calls++
	if l.calls%1024 == 0 {
		l.gc(now)
	}
	var reservations []*rate.Reservation
	cancel := func() {
		for _, r := range reservations {
			r.CancelAt(now)
		}
	}
	// Phase 1: drop-mode checks, reversibly.
	for i, it := range items {
		r, ok := l.rules[it.Event]
		if !ok || r.Mode != Drop {
			continue
		}
		k := l.key(it)
		lim := l.drops[k]
		if lim == nil {
			lim = rate.NewLimiter(rate.Every(r.Interval), 1)
			l.drops[k] = lim
		}
		res := lim.ReserveN(now, 1)
		if !res.OK() || res.DelayFrom(now) > 0 {
			res.CancelAt(now)
			cancel()
			return nil, fmt.Errorf("%w: event %d (%s) at most once every %v per target", ErrDropped, i, it.Event, r.Interval)
		}
		reservations = append(reservations, res)
	}
	// Phase 2: coalescing, which cannot fail.
	for i, it := range items {
		r, ok := l.rules[it.Event]
		if !ok || r.Mode != Coalesce {
			continue
		}
		k := l.key(it)
		w := l.windows[k]
		if w == nil {
			if len(l.windows) >= MaxWindows {
				continue // Pass, unlimited: see MaxWindows
			}
			w = &window[V]{key: k, end: now.Add(r.Interval), interval: r.Interval}
			l.windows[k] = w
			l.push(w)
			continue // Pass: the first event of a quiet period
		}
		if !now.Before(w.end) && w.pending == nil {
			// The window ended and its end is not handled yet: a new one.
			w.end = now.Add(r.Interval)
			heap.Fix(&l.ends, w.index)
			continue // Pass
		}
		if l.held-w.size+len(it.Data) > MaxHeldBytes {
			continue // Pass, unlimited: see MaxHeldBytes
		}
		v := it.Value
		w.pending = &v
		l.held += len(it.Data) - w.size
		w.size = len(it.Data)
		out[i] = Held
	}
	return out, nil
}

// push adds w to the heap of ends, starting the goroutine with the first
// window and waking it when w ends before every other window. l.mu is
// held.
func (l *Limiter[V]) push(w *window[V]) {
	heap.Push(&l.ends, w)
	if !l.started {
		l.started = true
		go l.run()
	}
	if w.index == 0 {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

// run ends windows when they are due, until Close.
func (l *Limiter[V]) run() {
	defer close(l.stopped)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		l.mu.Lock()
		next := time.Hour
		if len(l.ends) > 0 {
			next = time.Until(l.ends[0].end)
		}
		l.mu.Unlock()
		t.Reset(max(next, 0))
		select {
		case <-l.done:
			return
		case <-l.wake:
		case <-t.C:
			if out := l.expire(time.Now()); len(out) > 0 {
				l.flush(out)
			}
		}
	}
}

// expire ends the windows due at now: a window that holds a value hands
// it over and opens the next window; an empty one is forgotten.
func (l *Limiter[V]) expire(now time.Time) []V {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []V
	for len(l.ends) > 0 && !now.Before(l.ends[0].end) {
		w := l.ends[0]
		if w.pending == nil {
			heap.Pop(&l.ends)
			delete(l.windows, w.key)
			continue
		}
		out = append(out, *w.pending)
		l.held -= w.size
		w.pending, w.size = nil, 0
		w.end = now.Add(w.interval)
		heap.Fix(&l.ends, 0)
	}
	return out
}

// gc forgets drop limiters that have refilled. l.mu is held.
func (l *Limiter[V]) gc(now time.Time) {
	for k, lim := range l.drops {
		if lim.TokensAt(now) >= 1 {
			delete(l.drops, k)
		}
	}
}

// Len returns the number of targets with live state, for tests.
func (l *Limiter[V]) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.drops) + len(l.windows)
}

// Flush delivers every held value now, without waiting for the windows to
// end, and forgets all windows. Graceful shutdown calls it so that nothing
// held is lost.
func (l *Limiter[V]) Flush() {
	l.mu.Lock()
	var out []V
	for _, w := range l.ends {
		if w.pending != nil {
			out = append(out, *w.pending)
		}
	}
	clear(l.windows)
	l.ends = nil
	l.held = 0
	l.mu.Unlock()
	if len(out) > 0 {
		l.flush(out)
	}
}

// Close flushes what is held and stops the limiter's goroutine. After
// Close every event passes.
func (l *Limiter[V]) Close() {
	l.Flush()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	started := l.started
	close(l.done)
	l.mu.Unlock()
	if started {
		<-l.stopped
	}
}

// endHeap orders windows by their end.
type endHeap[V any] []*window[V]

func (h endHeap[V]) Len() int           { return len(h) }
func (h endHeap[V]) Less(i, j int) bool { return h[i].end.Before(h[j].end) }
func (h endHeap[V]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *endHeap[V]) Push(x any) {
	w := x.(*window[V])
	w.index = len(*h)
	*h = append(*h, w)
}
func (h *endHeap[V]) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return w
}
