package clustertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestRetryAfterFrozenEngineStoresOnce publishes with idempotency keys
// while the engine is frozen (SIGSTOP): each publish is answered 503, but
// the engine has the request and appends it once it runs again. The
// publisher then does what docs/scaling.md tells it to: it retries with
// the same key, on the same node and on another one. Every retry must be
// answered with the id of the copy already in the log, and a subscriber
// must receive each event exactly once.
//
// (Found by the fault runs of the hub issue: with the keys kept in the
// publishing node's memory, and recorded only on success, every run on
// either engine stored 2–6 such events twice.)
func TestRetryAfterFrozenEngineStoresOnce(t *testing.T) {
	for _, oe := range durable {
		t.Run(oe.name, func(t *testing.T) {
			srv, e := oe.start(t)
			nodes := startNodes(t, e, 3)
			hc := httpClient(t)
			c := newClient(t, hc, "t1", "u1")
			c.mustConnect(nodes[2])
			p := newPublisher(t, "t1")
			tok := p.tokens["t1"]
			body := func(i int) map[string]any {
				return map[string]any{
					"event": "ct:user", "tenantId": "t1", "target": map[string]any{"userId": "u1"},
					"data": map[string]any{"frozen": i}, "idempotencyKey": fmt.Sprintf("frozen-%d", i),
				}
			}
			const keys = 4
			thaw := freeze(t, srv)
			var wg sync.WaitGroup
			for i := range keys {
				wg.Go(func() {
					st, resp, err := nodes[0].do("POST", "/api/events", tok, body(i))
					if err != nil || st != http.StatusServiceUnavailable {
						t.Errorf("publish %d with the engine frozen: %d %s %v, want 503", i, st, resp, err)
					}
				})
			}
			wg.Wait()
			thaw()
			for _, nd := range nodes {
				if err := nd.waitReady(30 * time.Second); err != nil {
					t.Fatalf("node %s after SIGCONT: %v", nd.id, err)
				}
			}
			for i := range keys {
				var ids []string
				for _, nd := range []*node{nodes[0], nodes[1], nodes[0]} {
					st, resp, err := nd.do("POST", "/api/events", tok, body(i))
					var r struct{ ID string }
					if err != nil || st != http.StatusAccepted || json.Unmarshal(resp, &r) != nil || r.ID == "" {
						t.Fatalf("retry of %d on %s: %d %s %v, want 202 with an id", i, nd.id, st, resp, err)
					}
					ids = append(ids, r.ID)
				}
				if ids[0] != ids[1] || ids[1] != ids[2] {
					t.Errorf("retries of %d answered ids %v, want one id", i, ids)
				}
			}
			settle(t, p.fence(nodes[1]), c)
			count := map[string]int{}
			c.mu.Lock()
			for _, id := range c.ids {
				var d struct {
					Frozen *int
				}
				if json.Unmarshal([]byte(c.data[id]), &d) == nil && d.Frozen != nil {
					count[fmt.Sprint(*d.Frozen)]++
				}
			}
			c.mu.Unlock()
			for i := range keys {
				if n := count[fmt.Sprint(i)]; n != 1 {
					t.Errorf("event %d received %d times, want exactly once", i, n)
				}
			}
		})
	}
}
