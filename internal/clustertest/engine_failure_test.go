package clustertest

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// ownEngine is an engine server of the test's own and the URL the nodes
// get for it.
type ownEngine struct {
	name  string
	start func(t *testing.T) (*server, engine)
}

// durable are engines whose log survives a restart of the server.
var durable = []ownEngine{
	{"redis-aof", func(t *testing.T) (*server, engine) {
		s := ownRedis(t, true)
		return s, engine{"redis", withQuery(s.url(), "prefix", "ct")}
	}},
	{"nats-file", func(t *testing.T) (*server, engine) {
		s := ownNATS(t)
		return s, engine{"nats", withQuery(s.url(), "stream", "CT", "storage", "file")}
	}},
}

// volatile are engines whose log is lost when the server restarts.
var volatile = []ownEngine{
	{"redis-no-persistence", func(t *testing.T) (*server, engine) {
		s := ownRedis(t, false)
		return s, engine{"redis", withQuery(s.url(), "prefix", "ct")}
	}},
	{"nats-memory", func(t *testing.T) (*server, engine) {
		s := ownNATS(t)
		return s, engine{"nats", withQuery(s.url(), "stream", "CT", "storage", "memory")}
	}},
}

// publishRandom publishes n events with random targets on random nodes.
func publishRandom(t testing.TB, p *publisher, rng *rand.Rand, nodes []*node, n int) {
	t.Helper()
	for range n {
		tenant, tg := randomTarget(rng, tenants, users, channels)
		nd := nodes[rng.IntN(len(nodes))]
		if _, err := p.publish(nd, tenant, tg, ""); err != nil {
			t.Fatalf("publish on %s: %v", nd.id, err)
		}
	}
}

// engineDown checks what nodes do while their engine is unreachable:
// /readyz answers 503 broker_unavailable, and a publish fails fast with
// 503 broker_unavailable. It returns the slowest /readyz flip and the
// slowest failed publish.
func engineDown(t *testing.T, p *publisher, nodes []*node, down time.Time) (time.Duration, time.Duration) {
	t.Helper()
	var mu sync.Mutex
	var readyIn, publishIn time.Duration
	var wg sync.WaitGroup
	for _, nd := range nodes {
		wg.Go(func() {
			var st int
			var code string
			ok := poll(10*time.Second, func() bool {
				st, code = nd.readyz()
				return st == http.StatusServiceUnavailable
			})
			took := time.Since(down)
			if !ok || code != "broker_unavailable" {
				t.Errorf("node %s: /readyz answers %d %s with the engine down, want 503 broker_unavailable", nd.id, st, code)
			}
			start := time.Now()
			_, err := p.publish(nd, "t1", target{kind: "tenant"}, "")
			ptook := time.Since(start)
			var pe *publishError
			if !errors.As(err, &pe) || pe.status != http.StatusServiceUnavailable || pe.code != "broker_unavailable" {
				t.Errorf("node %s: publish with the engine down: %v, want 503 broker_unavailable", nd.id, err)
			}
			if ptook > 3500*time.Millisecond {
				t.Errorf("node %s: publish took %v to fail with the engine down, want about 2 s at most", nd.id, ptook)
			}
			mu.Lock()
			readyIn, publishIn = max(readyIn, took), max(publishIn, ptook)
			mu.Unlock()
		})
	}
	wg.Wait()
	if readyIn > 3500*time.Millisecond {
		t.Errorf("/readyz took %v to report the engine down, want about 2 s at most", readyIn)
	}
	return readyIn, publishIn
}

// TestEngineRestart kills the engine (SIGKILL) under a busy cluster and
// starts it again on the same port and data. Meanwhile the nodes keep
// their streams open (heartbeats go on), answer 503 on /readyz and on
// publish, then recover by themselves; the log keeps its epoch, clients
// that stayed connected miss nothing, and clients that were away resume
// on other nodes with zero loss and no sse:reset.
func TestEngineRestart(t *testing.T) {
	for _, oe := range durable {
		t.Run(oe.name, func(t *testing.T) {
			srv, e := oe.start(t)
			nodes := startNodes(t, e, 3)
			hc := httpClient(t)
			clients := connectSpread(t, hc, nodes, mixed)
			var stay, away []*client
			for i, c := range clients {
				if i%3 == 1 {
					away = append(away, c)
				} else {
					stay = append(stay, c)
				}
			}
			p := newPublisher(t, tenants...)
			rng := rand.New(rand.NewPCG(5, 5))
			publishRandom(t, p, rng, nodes, 60)
			for _, c := range away {
				c.disconnect()
			}
			publishRandom(t, p, rng, nodes, 30)
			epoch, _ := splitID(p.lastID())
			hb := make([]int, len(stay))
			for i, c := range stay {
				hb[i] = c.heartbeatCount()
			}

			srv.kill()
			down := time.Now()
			readyIn, publishIn := engineDown(t, p, nodes, down)
			for i, c := range stay {
				waitFor(t, 10*time.Second, "heartbeats on "+c.name+" while the engine is down", func() bool { return c.heartbeatCount() >= hb[i]+3 })
				if !c.isLive() {
					t.Errorf("client %s: its stream closed while the engine was down", c.name)
				}
			}
			outage := time.Since(down)

			srv.start()
			up := time.Now()
			for _, nd := range nodes {
				if err := nd.waitReady(30 * time.Second); err != nil {
					t.Fatalf("node %s after the engine restarted: %v", nd.id, err)
				}
			}
			recovered := time.Since(up)
			publishRandom(t, p, rng, nodes, 30)
			if got, _ := splitID(p.lastID()); got != epoch {
				t.Errorf("epoch after the restart: %q, want %q (the log survives)", got, epoch)
			}
			for i, c := range away {
				c.mustConnect(nodes[(i+1)%3])
			}
			publishRandom(t, p, rng, nodes, 30)
			settle(t, p.fence(nodes[2]), clients...)
			for _, c := range clients {
				p.checkExactlyOnce(t, c)
				if cs := c.controlNames(); len(cs) > 0 {
					t.Errorf("client %s: control events %v, want none", c.name, cs)
				}
			}
			for _, c := range stay {
				if n := c.sessionCount(); n != 1 {
					t.Errorf("client %s: %d sessions, want its one stream kept open", c.name, n)
				}
			}
			t.Logf("%s: /readyz 503 after %v, publish 503 in %v; engine down %v; all nodes ready %v after the restart; %d events checked",
				oe.name, readyIn.Round(time.Millisecond), publishIn.Round(time.Millisecond), outage.Round(time.Millisecond), recovered.Round(time.Millisecond), p.count())
		})
	}
}

// TestEngineLosesLog restarts an engine that keeps no data (Redis
// without persistence, NATS with memory storage). The log starts again
// under a new epoch: clients that stayed connected go on receiving every
// event, and a client that resumes with an id of the lost log gets
// sse:reset and then the live events.
func TestEngineLosesLog(t *testing.T) {
	for _, oe := range volatile {
		t.Run(oe.name, func(t *testing.T) {
			srv, e := oe.start(t)
			nodes := startNodes(t, e, 3)
			hc := httpClient(t)
			clients := connectSpread(t, hc, nodes, mixed[:6])
			stay, away := clients[:3], clients[3:]
			p := newPublisher(t, tenants...)
			rng := rand.New(rand.NewPCG(6, 6))
			publishRandom(t, p, rng, nodes, 40)
			for _, c := range away {
				c.disconnect()
			}
			publishRandom(t, p, rng, nodes, 20)
			missedFrom := p.count()
			oldEpoch, _ := splitID(p.lastID())

			srv.kill()
			engineDown(t, p, nodes, time.Now())
			srv.start()
			for _, nd := range nodes {
				if err := nd.waitReady(30 * time.Second); err != nil {
					t.Fatalf("node %s after the engine restarted: %v", nd.id, err)
				}
			}
			publishRandom(t, p, rng, nodes, 20)
			newEpoch, _ := splitID(p.lastID())
			if newEpoch == oldEpoch {
				t.Fatalf("epoch %q after the engine lost its data, want a new one", newEpoch)
			}
			resumedAt := p.count()
			for i, c := range away {
				c.mustConnect(nodes[(i+1)%3])
			}
			publishRandom(t, p, rng, nodes, 20)
			settle(t, p.fence(nodes[0]), clients...)
			// The clients that stayed followed the old log live. An event
			// appended to it just before the engine died may not have
			// been fanned out yet, and no node can know of it once the log
			// is gone: every such stream is told with sse:reset
			// {"reason":"log_lost"} before the new log's first event. What
			// it must have: a prefix of the old log's events meant for it
			// (all of them but a tail in flight at the crash), then every
			// new-log event meant for it, exactly once and in order.
			// (Without the reset, a client missed such an event silently:
			// seen in CI as "missing 1", no control event.)
			lost := 0
			for _, c := range stay {
				if cs := c.controls(); len(cs) != 1 || cs[0].name != "sse:reset" || !strings.Contains(cs[0].data, `"log_lost"`) {
					t.Errorf("client %s: control events %v, want one sse:reset log_lost", c.name, cs)
				}
				var old, fresh []string
				p.mu.Lock()
				for i, pub := range p.log {
					switch {
					case !meantFor(pub, c):
					case i < missedFrom:
						old = append(old, pub.id)
					default:
						fresh = append(fresh, pub.id)
					}
				}
				p.mu.Unlock()
				got := c.received()
				k := len(got) - len(fresh)
				if k < 0 || k > len(old) || !slices.Equal(got[:k], old[:k]) || !slices.Equal(got[k:], fresh) {
					t.Errorf("client %s: got %v, want a prefix of %v then exactly %v", c.name, got, old, fresh)
					continue
				}
				lost += len(old) - k
			}
			for _, c := range away {
				if cs := c.controls(); len(cs) != 1 || cs[0].name != "sse:reset" {
					t.Errorf("client %s: control events %v after resuming with an id of the lost log, want sse:reset", c.name, c.controlNames())
				}
				// What it must have: what it got before it left, then, after
				// sse:reset, the new log's events meant for it, in order, at
				// least from its return on. (A node whose subscription had
				// not caught up with the new log when the client came back
				// delivers the new log's earlier events live: harmless, as
				// the client refetches its state on sse:reset.)
				var before, after []string
				mustFrom := 0
				p.mu.Lock()
				for i, pub := range p.log {
					switch {
					case !meantFor(pub, c):
					case i < missedFrom-20:
						before = append(before, pub.id)
					case i >= missedFrom:
						if i < resumedAt {
							mustFrom = len(after) + 1
						}
						after = append(after, pub.id)
					}
				}
				p.mu.Unlock()
				got := c.received()
				ok := len(got) >= len(before) && slices.Equal(got[:len(before)], before)
				if ok {
					rest := got[len(before):]
					k := len(after) - len(rest)
					ok = k >= 0 && k <= mustFrom && slices.Equal(rest, after[k:])
				}
				if !ok {
					t.Errorf("client %s: got %v, want %v then a tail of %v that holds at least the last %d", c.name, got, before, after, len(after)-mustFrom)
				}
			}
			t.Logf("%s: epoch %s → %s; the 20 events published while clients were away were lost with the old log, announced by sse:reset; %d in flight at the crash missed by live clients, announced likewise", oe.name, oldEpoch, newEpoch, lost)
		})
	}
}

// TestResumeWhileEngineDown has a client that was away come back while
// the engine is down, and retry as clients do (on a refusal or a closed
// stream) until the engine is back. The log survives the restart, so the
// client must end up with every event meant for it and no sse:reset: a
// node that cannot replay may refuse the stream or end it (sse:shutdown
// tells the client to come back), but must not tell it to start over.
//
// (Found with an earlier hub, which answered sse:reset
// {"reason":"history_unavailable"} on a stream that stayed open: the
// client had no reason to reconnect, and the events published while it
// was away were never delivered although the log still held them.)
func TestResumeWhileEngineDown(t *testing.T) {
	for _, oe := range durable {
		t.Run(oe.name, func(t *testing.T) {
			srv, e := oe.start(t)
			nodes := startNodes(t, e, 3)
			hc := httpClient(t)
			c := newClient(t, hc, "t1", "u1")
			c.mustConnect(nodes[0])
			p := newPublisher(t, "t1")
			tg := target{kind: "user", users: []string{"u1"}}
			first := p.mustPublish(nodes[0], "t1", tg)
			waitFor(t, 10*time.Second, "the first event", func() bool { return c.has(first) })
			c.disconnect()
			p.mustPublish(nodes[1], "t1", tg) // published while the client is away

			srv.kill()
			engineDown(t, p, nodes[2:], time.Now())
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() {
				for {
					if !c.isLive() {
						_ = c.connect(nodes[2])
					}
					select {
					case <-stop:
						return
					case <-time.After(100 * time.Millisecond):
					}
				}
			})
			waitFor(t, 10*time.Second, "a resume attempt during the outage", func() bool { return c.sessionCount() >= 2 })
			srv.start()
			for _, nd := range nodes {
				if err := nd.waitReady(30 * time.Second); err != nil {
					t.Fatalf("node %s after the engine restarted: %v", nd.id, err)
				}
			}
			p.mustPublish(nodes[0], "t1", tg)
			fence := p.fence(nodes[1])
			ok := poll(20*time.Second, func() bool { return c.has(fence) })
			close(stop)
			wg.Wait()
			if !ok {
				t.Fatalf("the client did not receive the fence within 20 s")
			}
			p.checkExactlyOnce(t, c)
			for _, ce := range c.controlNames() {
				if ce != "sse:shutdown" {
					t.Errorf("control events %v; want none but sse:shutdown: the log was never lost", c.controlNames())
					break
				}
			}
		})
	}
}

// freeze stops the engine process (SIGSTOP) and returns the function that
// lets it run again (SIGCONT); it is idempotent and also runs at cleanup.
func freeze(t *testing.T, srv *server) (thaw func()) {
	t.Helper()
	if err := srv.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	thaw = func() { once.Do(func() { _ = srv.cmd.Process.Signal(syscall.SIGCONT) }) }
	t.Cleanup(thaw)
	return thaw
}

// TestEngineFrozen stops the engine (SIGSTOP) instead of killing it: it
// keeps its connections but answers nothing, as an overloaded or
// partitioned server does. Within the broker timeout (2 s) the nodes
// report not-ready and publishes fail with 503; streams stay open; after
// SIGCONT everything recovers without loss. A publish that timed out may
// still have reached the log (the engine got the request before it
// froze): its event is then delivered, once, like any other.
func TestEngineFrozen(t *testing.T) {
	for _, oe := range durable {
		t.Run(oe.name, func(t *testing.T) {
			srv, e := oe.start(t)
			nodes := startNodes(t, e, 3)
			hc := httpClient(t)
			clients := connectSpread(t, hc, nodes, mixed[:6])
			away := clients[5]
			p := newPublisher(t, tenants...)
			rng := rand.New(rand.NewPCG(8, 8))
			publishRandom(t, p, rng, nodes, 30)
			away.disconnect()
			publishRandom(t, p, rng, nodes, 10)

			resume := freeze(t, srv)
			frozen := time.Now()
			readyIn, publishIn := engineDown(t, p, nodes, frozen)
			for _, c := range clients[:5] {
				hb := c.heartbeatCount()
				waitFor(t, 10*time.Second, "heartbeats on "+c.name+" while the engine is frozen", func() bool { return c.heartbeatCount() >= hb+2 })
				if !c.isLive() {
					t.Errorf("client %s: its stream closed while the engine was frozen", c.name)
				}
			}
			resume()
			thawed := time.Now()
			for _, nd := range nodes {
				if err := nd.waitReady(30 * time.Second); err != nil {
					t.Fatalf("node %s after SIGCONT: %v", nd.id, err)
				}
			}
			recovered := time.Since(thawed)
			publishRandom(t, p, rng, nodes, 20)
			away.mustConnect(nodes[0])
			publishRandom(t, p, rng, nodes, 10)
			settle(t, p.fence(nodes[1]), clients...)
			late := 0
			for _, c := range clients {
				got, n := p.withoutFailed(t, c)
				late += n
				p.compare(t, c, got)
				if cs := c.controlNames(); len(cs) > 0 {
					t.Errorf("client %s: control events %v, want none", c.name, cs)
				}
			}
			t.Logf("%s: /readyz 503 after %v, publish 503 after %v; all nodes ready %v after SIGCONT; %d deliveries of events whose publish had failed",
				oe.name, readyIn.Round(time.Millisecond), publishIn.Round(time.Millisecond), recovered.Round(time.Millisecond), late)
		})
	}
}

// TestRedisRollback restarts Redis from an older state than the one it
// acknowledged: an RDB snapshot here, or an AOF with appendfsync everysec
// after a crash (both lose the last writes). The log has lost events that
// nodes already delivered, and its counter is behind them. Whatever was
// lost, every event acknowledged after the restart must reach every
// connected client meant for it, no id may name two events, and a client
// that resumes with an id of a lost event must get sse:reset.
//
// (Found when the log kept its epoch after a rollback: the lost events'
// ids were given again to new events, a client resuming with one of them
// got the wrong events instead of sse:reset, and events published before
// the subscriptions noticed the rollback were never delivered live.)
func TestRedisRollback(t *testing.T) {
	srv := ownRedis(t, false)
	e := engine{"redis", withQuery(srv.url(), "prefix", "ct")}
	nodes := startNodes(t, e, 3)
	hc := httpClient(t)
	clients := connectSpread(t, hc, nodes, mixed)
	away := clients[6:]
	p := newPublisher(t, tenants...)
	rng := rand.New(rand.NewPCG(9, 9))
	publishRandom(t, p, rng, nodes, 30)
	rc := redis.NewClient(&redis.Options{Addr: strings.TrimPrefix(strings.TrimSuffix(srv.url(), "/0"), "redis://")})
	defer rc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rc.Save(ctx).Err(); err != nil {
		t.Fatalf("SAVE: %v", err)
	}
	publishRandom(t, p, rng, nodes, 10)
	for _, c := range away {
		// Make sure each has an id of an event the snapshot lacks.
		id := p.mustPublish(nodes[0], c.tenant, target{kind: "user", users: []string{c.user}})
		waitFor(t, 10*time.Second, "an event after the snapshot on "+c.name, func() bool { return c.has(id) })
		c.disconnect()
	}
	publishRandom(t, p, rng, nodes, 10)

	srv.kill()
	srv.start()
	for _, nd := range nodes {
		if err := nd.waitReady(30 * time.Second); err != nil {
			t.Fatalf("node %s after Redis restarted: %v", nd.id, err)
		}
	}
	// Publish at once, as a busy backend does; the away clients come back
	// later.
	restartedAt := p.count()
	publishRandom(t, p, rng, nodes, 30)
	for i, c := range away {
		c.mustConnect(nodes[(i+1)%3])
	}
	returnedAt := p.count()
	publishRandom(t, p, rng, nodes, 10)
	settle(t, p.fence(nodes[1]), clients...)

	for _, c := range clients {
		from := restartedAt
		if slices.Contains(away, c) {
			from = returnedAt
		}
		var after []string
		p.mu.Lock()
		for _, pub := range p.log[from:] {
			if meantFor(pub, c) {
				after = append(after, pub.id)
			}
		}
		p.mu.Unlock()
		got := c.received()
		if len(got) < len(after) || !slices.Equal(got[len(got)-len(after):], after) {
			t.Errorf("client %s: the events acknowledged after the restart (and its return): got the tail %v, want %v", c.name, got[max(0, len(got)-len(after)):], after)
		}
		seen := map[string]bool{}
		for _, id := range got {
			if seen[id] {
				t.Errorf("client %s: id %s names two events", c.name, id)
			}
			seen[id] = true
		}
	}
	for _, c := range away {
		if !slices.Contains(c.controlNames(), "sse:reset") {
			t.Errorf("client %s: resumed with the id of an event Redis lost without sse:reset (control events %v)", c.name, c.controlNames())
		}
	}
}
