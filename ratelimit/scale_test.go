package ratelimit_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ssehub/ssehub/ratelimit"
)

// TestManyWindowsOneGoroutine opens 20,000 coalescing windows at one
// instant, each holding a value, and checks that their ends are handled
// by the limiter's own goroutine: no goroutine per window wakes up, and
// every held value is flushed once.
func TestManyWindowsOneGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		flushed, peak := 0, 0
		base := runtime.NumGoroutine()
		l := ratelimit.New(map[string]ratelimit.Rule{"typing": {Interval: time.Second, Mode: ratelimit.Coalesce}},
			func(vs []int) {
				mu.Lock()
				defer mu.Unlock()
				flushed += len(vs)
				peak = max(peak, runtime.NumGoroutine()-base)
			})
		defer l.Close()
		const n = 20000
		now := time.Now()
		for i := range n {
			k := fmt.Sprint("t\x00channel:", i)
			for v := range 2 { // the first passes, the second is held
				if _, err := l.Decide(now, []ratelimit.Item[int]{{Event: "typing", Key: k, Value: v}}); err != nil {
					t.Fatal(err)
				}
			}
		}
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		if flushed != n {
			t.Errorf("flushed %d held values, want %d", flushed, n)
		}
		if peak > 4 {
			t.Errorf("%d goroutines above the start while windows ended, want at most 4 (one owner)", peak)
		}
	})
}

// TestCoalesceBySender is the group chat: windows per value of the By
// field, so each sender's latest state is delivered.
func TestCoalesceBySender(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var got []string
		l := ratelimit.New(ratelimit.Defaults(), func(vs []string) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, vs...)
		})
		defer l.Close()
		var passed []string
		for _, p := range []string{
			`{"userId":"alice","isTyping":true}`, `{"userId":"carol","isTyping":true}`,
			`{"userId":"alice","isTyping":false}`, `{"userId":"carol","isTyping":true}`,
		} {
			d, err := l.Decide(time.Now(), []ratelimit.Item[string]{{Event: "chat:typing", Key: "t1\x00channel:c1", Data: []byte(p), Value: p}})
			if err != nil {
				t.Fatal(err)
			}
			if d[0] == ratelimit.Pass {
				passed = append(passed, p)
			}
		}
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		all := append(passed, got...)
		want := []string{
			`{"userId":"alice","isTyping":true}`, `{"userId":"carol","isTyping":true}`,
			`{"userId":"alice","isTyping":false}`, `{"userId":"carol","isTyping":true}`,
		}
		if fmt.Sprint(all) != fmt.Sprint(want) {
			t.Fatalf("delivered %v, want %v", all, want)
		}
	})
}

// TestCoalesceBounds: past MaxHeldBytes a coalesced event passes at once
// rather than being held, so the held state stays bounded and nothing is
// lost.
func TestCoalesceBounds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		flushed := 0
		l := ratelimit.New(map[string]ratelimit.Rule{"e": {Interval: time.Second, Mode: ratelimit.Coalesce}},
			func(vs []int) { mu.Lock(); flushed += len(vs); mu.Unlock() })
		defer l.Close()
		big := make([]byte, 1<<20)
		held, passed := 0, 0
		n := ratelimit.MaxHeldBytes/len(big) + 10
		for i := range n {
			k := fmt.Sprint("k", i)
			for v := range 2 {
				d, _ := l.Decide(time.Now(), []ratelimit.Item[int]{{Event: "e", Key: k, Data: big, Value: v}})
				switch {
				case d[0] == ratelimit.Held:
					held++
				case v == 1:
					passed++
				}
			}
		}
		if held != ratelimit.MaxHeldBytes/len(big) || passed != 10 {
			t.Fatalf("held %d, passed over the bound %d; want %d and 10", held, passed, ratelimit.MaxHeldBytes/len(big))
		}
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		if flushed != held {
			t.Fatalf("flushed %d, want %d", flushed, held)
		}
	})
}

func TestParseRulesBy(t *testing.T) {
	r, err := ratelimit.ParseRules("chat:typing=1s:coalesce:userId,x=2s:drop:/a~1b/c")
	if err != nil {
		t.Fatal(err)
	}
	if r["chat:typing"].By != "userId" || r["x"].By != "/a~1b/c" {
		t.Fatalf("got %+v", r)
	}
	if segs, _ := ratelimit.ParseField("/a~1b/c"); fmt.Sprint(segs) != "[a/b c]" {
		t.Fatalf("ParseField: %q", segs)
	}
	if _, err := ratelimit.ParseRules("x=1s:coalesce:a..b"); err == nil {
		t.Fatal("an empty segment was accepted")
	}
}
