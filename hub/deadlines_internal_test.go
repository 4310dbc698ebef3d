package hub

import (
	"context"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"
)

type discard struct{}

func (discard) Write(p []byte) (int, error)      { return len(p), nil }
func (discard) Flush() error                     { return nil }
func (discard) SetWriteDeadline(time.Time) error { return nil }

// TestDeadlinesEndEachConnectionOnTime gives 300 connections random token
// expiries and closes a third of them early: every other connection ends
// with token_expired within a second after its own expiry and not before,
// and the one timer's heap is empty once all are gone.
func TestDeadlinesEndEachConnectionOnTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, err := New(Config{MaxConns: -1, MaxConnsPerUser: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Shutdown(context.Background())
		type tracked struct {
			c      *Conn
			at     time.Time
			early  bool
			reason chan string
		}
		rng := rand.New(rand.NewPCG(1, 2))
		start := time.Now()
		var all []*tracked
		for i := range 300 {
			at := start.Add(time.Duration(1+rng.IntN(120)) * time.Second)
			c, err := h.Connect(ConnInfo{TenantID: "t", UserID: "u", ExpiresAt: at})
			if err != nil {
				t.Fatal(err)
			}
			tr := &tracked{c: c, at: at, early: i%3 == 0, reason: make(chan string, 1)}
			ctx, cancel := context.WithCancel(context.Background())
			go func() { tr.reason <- c.Serve(ctx, discard{}) }()
			if tr.early {
				time.AfterFunc(time.Duration(rng.IntN(int(at.Sub(start)))), cancel)
			} else {
				defer cancel()
			}
			all = append(all, tr)
		}
		synctest.Wait()
		ended := map[*tracked]string{}
		for now := range 125 {
			time.Sleep(time.Second)
			synctest.Wait()
			for _, tr := range all {
				if _, done := ended[tr]; done {
					continue
				}
				select {
				case r := <-tr.reason:
					ended[tr] = r
					switch {
					case tr.early && r == ReasonClientGone:
					case !tr.early && r == ReasonTokenExpired:
						if late := time.Since(tr.at); late < 0 || late > time.Second {
							t.Errorf("conn expiring at +%v ended at +%ds", tr.at.Sub(start), now+1)
						}
					default:
						t.Errorf("conn (early=%v) ended with %q", tr.early, r)
					}
				default:
					if !tr.early && !time.Now().Before(tr.at.Add(time.Second)) {
						t.Errorf("conn expiring at +%v still open at +%ds", tr.at.Sub(start), now+1)
					}
				}
			}
			// Only open connections are scheduled: release unschedules.
			h.deadlines.mu.Lock()
			n := len(h.deadlines.heap)
			h.deadlines.mu.Unlock()
			if open := len(all) - len(ended); n != open {
				t.Fatalf("at +%ds: deadline heap holds %d connections, %d are open", now+1, n, open)
			}
		}
		if len(ended) != len(all) {
			t.Fatalf("%d of %d connections ended", len(ended), len(all))
		}
		h.deadlines.mu.Lock()
		n := len(h.deadlines.heap)
		h.deadlines.mu.Unlock()
		if n != 0 {
			t.Fatalf("deadline heap holds %d connections after all ended", n)
		}
	})
}
