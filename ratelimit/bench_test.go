package ratelimit_test

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/ssehub/ssehub/ratelimit"
)

// BenchmarkWindows opens 200,000 coalescing windows for distinct targets
// within one interval, each holding a value, then lets them all end. It
// reports the heap bytes per window while they are open and the
// goroutines started (the limiter's own one).
func BenchmarkWindows(b *testing.B) {
	const n = 200000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "t1\x00channel:" + strconv.Itoa(i)
	}
	data := []byte(`{"userId":"u1","isTyping":true}`)
	for b.Loop() {
		flushed := make(chan int, 1)
		l := ratelimit.New(map[string]ratelimit.Rule{"chat:typing": {Interval: 200 * time.Millisecond, Mode: ratelimit.Coalesce, By: "userId"}},
			func(vs []int) {
				select {
				case flushed <- len(vs):
				default:
				}
			})
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		g0 := runtime.NumGoroutine()
		now := time.Now()
		for i, k := range keys {
			for v := range 2 {
				if _, err := l.Decide(now, []ratelimit.Item[int]{{Event: "chat:typing", Key: k, Data: data, Value: i*2 + v}}); err != nil {
					b.Fatal(err)
				}
			}
		}
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/window")
		<-flushed
		b.ReportMetric(float64(runtime.NumGoroutine()-g0), "goroutines")
		l.Close()
	}
}
