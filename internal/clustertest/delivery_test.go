package clustertest

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// spec is a client to create: its identity and channels.
type spec struct {
	tenant, user string
	channels     []string
}

// Two tenants with the same user ids and channel names: isolation must
// hold although the names collide.
var (
	tenants  = []string{"t1", "t2"}
	users    = []string{"u1", "u2", "u3", "u4"}
	channels = []string{"room:a", "room:b"}
	mixed    = []spec{
		{"t1", "u1", nil}, {"t1", "u1", []string{"room:a"}}, {"t1", "u2", []string{"room:a", "room:b"}},
		{"t1", "u3", []string{"room:b"}}, {"t1", "u4", nil},
		{"t2", "u1", []string{"room:a"}}, {"t2", "u2", nil}, {"t2", "u3", []string{"room:a", "room:b"}},
		{"t2", "u4", []string{"room:b"}},
	}
)

// connectSpread creates a client per spec and connects client i to node
// i mod len(nodes).
func connectSpread(t testing.TB, hc *http.Client, nodes []*node, specs []spec) []*client {
	t.Helper()
	clients := make([]*client, len(specs))
	for i, s := range specs {
		clients[i] = newClient(t, hc, s.tenant, s.user, s.channels...)
		clients[i].mustConnect(nodes[i%len(nodes)])
	}
	return clients
}

// TestDeliveryAcrossNodes spreads clients of two tenants over three nodes
// and publishes from four publishers on random nodes to every kind of
// target, some excluding a connection that lives on another node. Every
// client must receive exactly the events meant for it, once, in log
// order, and nothing of the other tenant.
func TestDeliveryAcrossNodes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		nodes := startNodes(t, e, 3)
		hc := httpClient(t)
		clients := connectSpread(t, hc, nodes, mixed)
		p := newPublisher(t, tenants...)

		// A tenant-bound publisher cannot publish into another tenant,
		// on any node.
		for _, nd := range nodes {
			st, body, err := nd.do("POST", "/api/events", p.tokens["t1"], map[string]any{
				"event": "ct:x", "tenantId": "t2", "data": map[string]any{}, "target": map[string]any{"tenantId": "t2"},
			})
			if err != nil || st != http.StatusForbidden {
				t.Errorf("node %s: publish into t2 with a t1 token: %d %v %s, want 403", nd.id, st, err, body)
			}
		}

		const publishers, perPublisher = 4, 100
		start := time.Now()
		var wg sync.WaitGroup
		for w := range publishers {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(w), 1))
				for range perPublisher {
					tenant, tg := randomTarget(rng, tenants, users, channels)
					exclude := ""
					if rng.IntN(8) == 0 {
						exclude = clients[rng.IntN(len(clients))].currentConnID()
					}
					if _, err := p.publish(nodes[rng.IntN(len(nodes))], tenant, tg, exclude); err != nil {
						t.Errorf("publish: %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		settle(t, p.fence(nodes[0]), clients...)
		deliveries := 0
		for _, c := range clients {
			p.checkExactlyOnce(t, c)
			deliveries += len(c.received())
			if cs := c.controlNames(); len(cs) > 0 {
				t.Errorf("client %s: control events %v, want none", c.name, cs)
			}
		}
		t.Logf("%s: %d events published on 3 nodes in %v, %d deliveries to %d clients checked", e.name, p.count(), elapsed.Round(time.Millisecond), deliveries, len(clients))
	})
}

// TestResumeOnAnotherNode cuts every client at random points of a steady
// stream of events; each reconnects to a different node than before with
// Last-Event-ID (or the id of its first sse:ready). Across all its
// sessions a client must see every event meant for it exactly once, in
// order, and never sse:reset.
func TestResumeOnAnotherNode(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		// Two sessions of one client may overlap for a moment on two
		// nodes; lift the per-user limit so that no eviction interferes.
		nodes := startNodes(t, e, 3, "--max-conns-per-user", "-1")
		hc := httpClient(t)
		clients := connectSpread(t, hc, nodes, mixed)
		p := newPublisher(t, tenants...)
		const events = 500
		stop := make(chan struct{})
		var pubWG sync.WaitGroup
		pubWG.Go(func() {
			defer close(stop)
			rng := rand.New(rand.NewPCG(7, 7))
			for range events {
				tenant, tg := randomTarget(rng, tenants, users, channels)
				if _, err := p.publish(nodes[rng.IntN(len(nodes))], tenant, tg, ""); err != nil {
					t.Errorf("publish: %v", err)
					return
				}
				time.Sleep(time.Duration(rng.IntN(2000)) * time.Microsecond)
			}
		})
		var wg sync.WaitGroup
		for i, c := range clients {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(i), 99))
				for {
					select {
					case <-stop:
						return
					case <-time.After(time.Duration(10+rng.IntN(150)) * time.Millisecond):
					}
					c.disconnect()
					prev := c.currentNode()
					next := nodes[rng.IntN(len(nodes))]
					for next == prev {
						next = nodes[rng.IntN(len(nodes))]
					}
					if err := c.connect(next); err != nil {
						t.Errorf("client %s: reconnect to %s: %v", c.name, next.id, err)
						return
					}
				}
			})
		}
		pubWG.Wait()
		wg.Wait()
		settle(t, p.fence(nodes[1]), clients...)
		sessions := 0
		for _, c := range clients {
			p.checkExactlyOnce(t, c)
			if slices.Contains(c.controlNames(), "sse:reset") {
				t.Errorf("client %s: sse:reset with ample history", c.name)
			}
			sessions += c.sessionCount()
		}
		t.Logf("%s: %d events, %d clients over %d sessions on alternating nodes checked", e.name, p.count(), len(clients), sessions)
	})
}

// TestNodeKilled kills one of three nodes with SIGKILL while events flow.
// Its clients see their streams break, reconnect to the other nodes with
// Last-Event-ID and must lose nothing; the other clients notice nothing.
func TestNodeKilled(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		nodes := startNodes(t, e, 3)
		hc := httpClient(t)
		clients := connectSpread(t, hc, nodes, mixed)
		victim, survivors := nodes[0], nodes[1:]
		p := newPublisher(t, tenants...)

		stop := make(chan struct{})
		var pubWG sync.WaitGroup
		pubWG.Go(func() {
			rng := rand.New(rand.NewPCG(3, 3))
			for {
				select {
				case <-stop:
					return
				default:
				}
				tenant, tg := randomTarget(rng, tenants, users, channels)
				_, err := p.publish(nodes[rng.IntN(len(nodes))], tenant, tg, "")
				if err != nil && !errors.Is(err, errNodeDead) {
					t.Errorf("publish: %v", err)
					return
				}
				time.Sleep(time.Duration(rng.IntN(2000)) * time.Microsecond)
			}
		})
		waitFor(t, 10*time.Second, "100 events before the kill", func() bool { return p.count() >= 100 })
		var orphans []*client
		for _, c := range clients {
			if c.currentNode() == victim {
				orphans = append(orphans, c)
			}
		}
		killed := time.Now()
		victim.kill()
		var failover time.Duration
		for i, c := range orphans {
			if !c.waitEnded(10 * time.Second) {
				t.Fatalf("client %s: its stream on the killed node did not end", c.name)
			}
			c.mustConnect(survivors[i%len(survivors)])
			failover = max(failover, time.Since(killed))
		}
		before := p.count()
		waitFor(t, 10*time.Second, "100 more events after the failover", func() bool { return p.count() >= before+100 })
		close(stop)
		pubWG.Wait()
		settle(t, p.fence(survivors[0]), clients...)
		for _, c := range clients {
			p.checkExactlyOnce(t, c)
			if cs := c.controlNames(); len(cs) > 0 {
				t.Errorf("client %s: control events %v, want none", c.name, cs)
			}
			if c.currentNode() == victim {
				t.Errorf("client %s: still on the killed node", c.name)
			}
			wantSessions := 1
			if slices.Contains(orphans, c) {
				wantSessions = 2
			}
			if n := c.sessionCount(); n != wantSessions {
				t.Errorf("client %s: %d sessions, want %d", c.name, n, wantSessions)
			}
		}
		// The stats of the survivors count every client, now on two
		// nodes; the dead node does not answer and is not counted.
		var s = survivors[1].stats(t)
		ok := poll(10*time.Second, func() bool {
			s = survivors[1].stats(t)
			return s.TotalClients == len(clients) && nodeIDs(s) == "n2,n3"
		})
		if !ok {
			t.Errorf("stats after the kill: %d clients on nodes %s, want %d on n2,n3", s.TotalClients, nodeIDs(s), len(clients))
		}
		t.Logf("%s: %d events; %d clients of the killed node were back on other nodes %v after SIGKILL; all checked", e.name, p.count(), len(orphans), failover.Round(time.Millisecond))
	})
}
