package ratelimit

import (
	"errors"
	"fmt"
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
}

// Defaults returns the seed's limits: chat:typing 1/s and presence:update
// 1/5s, both coalesced.
func Defaults() map[string]Rule {
	return map[string]Rule{
		"chat:typing":     {Interval: time.Second, Mode: Coalesce},
		"presence:update": {Interval: 5 * time.Second, Mode: Coalesce},
	}
}

// ParseRules reads "name=interval:mode,…", e.g.
// "chat:typing=1s:coalesce,bulk:import=10s:drop".
func ParseRules(s string) (map[string]Rule, error) {
	out := map[string]Rule{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, spec, ok := strings.Cut(part, "=")
		iv, mode, ok2 := strings.Cut(spec, ":")
		if !ok || !ok2 || name == "" {
			return nil, fmt.Errorf("ratelimit: %q: want name=interval:mode", part)
		}
		d, err := time.ParseDuration(iv)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("ratelimit: %q: bad interval %q", part, iv)
		}
		m, err := ParseMode(mode)
		if err != nil {
			return nil, err
		}
		out[name] = Rule{Interval: d, Mode: m}
	}
	return out, nil
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
// and target, see broker.Target.Key) and the value to flush when coalesced.
type Item[V any] struct {
	Event string
	Key   string
	Value V
}

// ErrDropped is returned by Decide when a drop-mode rule refuses an event.
var ErrDropped = errors.New("ratelimit: over the limit")

// Limiter applies rules per event name and target. It is safe for
// concurrent use.
type Limiter[V any] struct {
	rules map[string]Rule
	flush func(V)

	mu      sync.Mutex
	drops   map[string]*rate.Limiter
	windows map[string]*window[V]
	calls   int
	closed  bool
	wg      sync.WaitGroup
}

type window[V any] struct {
	end     time.Time
	pending *V
	timer   *time.Timer
}

// New returns a limiter. flush receives coalesced values at the end of
// their window, on a timer goroutine, outside the limiter's lock.
func New[V any](rules map[string]Rule, flush func(V)) *Limiter[V] {
	return &Limiter[V]{
		rules:   rules,
		flush:   flush,
		drops:   map[string]*rate.Limiter{},
		windows: map[string]*window[V]{},
	}
}

// Rule returns the rule of an event name and whether it has one.
func (l *Limiter[V]) Rule(event string) (Rule, bool) {
	r, ok := l.rules[event]
	return r, ok
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
		k := it.Event + "\x00" + it.Key
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
		k := it.Event + "\x00" + it.Key
		w := l.windows[k]
		if w == nil || !now.Before(w.end) && w.pending == nil {
			if w != nil && w.timer != nil && w.timer.Stop() {
				l.wg.Done()
			}
			w = &window[V]{end: now.Add(r.Interval)}
			l.windows[k] = w
			l.arm(k, w, r.Interval)
			continue // Pass
		}
		v := it.Value
		w.pending = &v
		out[i] = Held
	}
	return out, nil
}

// arm schedules the end of w. l.mu is held.
func (l *Limiter[V]) arm(k string, w *window[V], d time.Duration) {
	l.wg.Add(1)
	w.timer = time.AfterFunc(d, func() {
		defer l.wg.Done()
		l.mu.Lock()
		if l.closed || l.windows[k] != w {
			l.mu.Unlock()
			return
		}
		p := w.pending
		if p == nil {
			delete(l.windows, k)
			l.mu.Unlock()
			return
		}
		// Deliver the latest value and open the next window.
		w.pending = nil
		w.end = time.Now().Add(d)
		l.arm(k, w, d)
		l.mu.Unlock()
		l.flush(*p)
	})
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
	for k, w := range l.windows {
		if w.timer != nil && w.timer.Stop() {
			l.wg.Done()
		}
		if w.pending != nil {
			out = append(out, *w.pending)
		}
		delete(l.windows, k)
	}
	l.mu.Unlock()
	for _, v := range out {
		l.flush(v)
	}
}

// Close flushes what is held and stops the timers. After Close every event
// passes.
func (l *Limiter[V]) Close() {
	l.Flush()
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.wg.Wait()
}
