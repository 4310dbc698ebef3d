package ratelimit_test

import (
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ssehub/ssehub/ratelimit"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type sink struct {
	mu  sync.Mutex
	got []int
	at  []time.Time
}

func (s *sink) flush(vs []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vs {
		s.got = append(s.got, v)
		s.at = append(s.at, time.Now())
	}
}

func one(ev, key string, v int) []ratelimit.Item[int] {
	return []ratelimit.Item[int]{{Event: ev, Key: key, Value: v}}
}

func TestDrop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(map[string]ratelimit.Rule{"bulk": {Interval: time.Second, Mode: ratelimit.Drop}}, func([]int) {})
		defer l.Close()
		if d, err := l.Decide(time.Now(), one("bulk", "k", 1)); err != nil || d[0] != ratelimit.Pass {
			t.Fatalf("first: got %v %v, want Pass", d, err)
		}
		if _, err := l.Decide(time.Now(), one("bulk", "k", 2)); !errors.Is(err, ratelimit.ErrDropped) {
			t.Fatalf("second in the interval: got %v, want ErrDropped", err)
		}
		if d, err := l.Decide(time.Now(), one("bulk", "other", 3)); err != nil || d[0] != ratelimit.Pass {
			t.Fatalf("another target: got %v %v, want Pass", d, err)
		}
		if d, err := l.Decide(time.Now(), one("unlimited", "k", 3)); err != nil || d[0] != ratelimit.Pass {
			t.Fatalf("event without a rule: got %v %v, want Pass", d, err)
		}
		time.Sleep(time.Second)
		if d, err := l.Decide(time.Now(), one("bulk", "k", 4)); err != nil || d[0] != ratelimit.Pass {
			t.Fatalf("after the interval: got %v %v, want Pass", d, err)
		}
	})
}

func TestDropBatchChangesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(map[string]ratelimit.Rule{"bulk": {Interval: time.Second, Mode: ratelimit.Drop}}, func([]int) {})
		defer l.Close()
		if _, err := l.Decide(time.Now(), one("bulk", "b", 0)); err != nil {
			t.Fatal(err)
		}
		batch := []ratelimit.Item[int]{{Event: "bulk", Key: "a", Value: 1}, {Event: "bulk", Key: "b", Value: 2}}
		if _, err := l.Decide(time.Now(), batch); !errors.Is(err, ratelimit.ErrDropped) {
			t.Fatalf("batch: got %v, want ErrDropped", err)
		}
		// The refused batch did not use up target a's allowance.
		if d, err := l.Decide(time.Now(), one("bulk", "a", 3)); err != nil || d[0] != ratelimit.Pass {
			t.Fatalf("target a after a refused batch: got %v %v, want Pass", d, err)
		}
	})
}

func TestCoalesceBurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &sink{}
		l := ratelimit.New(ratelimit.Defaults(), s.flush)
		defer l.Close()
		start := time.Now()
		passed := 0
		for i := range 100 {
			d, err := l.Decide(time.Now(), one("chat:typing", "t1/conv:1", i))
			if err != nil {
				t.Fatal(err)
			}
			if d[0] == ratelimit.Pass {
				passed++
			}
			time.Sleep(5 * time.Millisecond) // the burst spans half the window
		}
		if passed != 1 {
			t.Fatalf("passed at once: got %d, want 1 (the first)", passed)
		}
		time.Sleep(3 * time.Second)
		synctest.Wait()
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.got) != 1 || s.got[0] != 99 {
			t.Fatalf("flushed: got %v, want [99] (the last payload)", s.got)
		}
		if d := s.at[0].Sub(start); d != time.Second {
			t.Fatalf("flushed after %v, want at the window's end (1s)", d)
		}
		if n := l.Len(); n != 0 {
			t.Fatalf("state after quiet windows: %d entries, want 0", n)
		}
	})
}

func TestCoalesceOnePerWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &sink{}
		l := ratelimit.New(ratelimit.Defaults(), s.flush)
		defer l.Close()
		// A steady 20/s stream for 3.5 s: one delivery per 1 s window.
		var passedAt []time.Time
		for i := range 70 {
			d, _ := l.Decide(time.Now(), one("chat:typing", "k", i))
			if d[0] == ratelimit.Pass {
				passedAt = append(passedAt, time.Now())
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		s.mu.Lock()
		all := append(passedAt, s.at...)
		last := s.got[len(s.got)-1]
		s.mu.Unlock()
		if last != 69 {
			t.Fatalf("last delivered: got %d, want 69", last)
		}
		for i := 1; i < len(all); i++ {
			if gap := all[i].Sub(all[i-1]); gap < time.Second {
				t.Fatalf("deliveries %d and %d are %v apart, want at least 1s", i-1, i, gap)
			}
		}
		if len(all) < 3 || len(all) > 5 {
			t.Fatalf("deliveries: got %d in 5.5s, want about one per second", len(all))
		}
	})
}

func TestCloseFlushesHeld(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &sink{}
		l := ratelimit.New(ratelimit.Defaults(), s.flush)
		l.Decide(time.Now(), one("presence:update", "k", 1))
		l.Decide(time.Now(), one("presence:update", "k", 2))
		l.Close()
		if len(s.got) != 1 || s.got[0] != 2 {
			t.Fatalf("after Close: got %v, want [2]", s.got)
		}
	})
}

func TestParseRules(t *testing.T) {
	r, err := ratelimit.ParseRules("chat:typing=1s:coalesce, bulk=10s:drop")
	if err != nil || r["chat:typing"] != (ratelimit.Rule{Interval: time.Second, Mode: ratelimit.Coalesce}) || r["bulk"].Mode != ratelimit.Drop {
		t.Fatalf("got %v, %v", r, err)
	}
	for _, bad := range []string{"x", "x=1s", "x=zz:drop", "x=1s:fast", "x=-1s:drop"} {
		if _, err := ratelimit.ParseRules(bad); err == nil {
			t.Errorf("ParseRules(%q): no error", bad)
		}
	}
}
