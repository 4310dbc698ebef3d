package clustertest

import (
	"testing"
	"time"
)

// TestReadyCarriesLogPositionOnFreshNode checks the promise of
// docs/protocol.md on nodes that just started: a fresh connection's
// sse:ready carries the log position, so a client that drops before its
// first event resumes without a gap.
//
// The hub reads that position from the broker (broker.Header.LastID) when
// it starts. (Found when redisbroker and natsbroker did not implement
// broker.Header: until a node had dispatched its first event its
// sse:ready had no id, and a client that reconnected then lost what was
// published in between.)
func TestReadyCarriesLogPositionOnFreshNode(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		nodes := launchNodes(t, e, 3)
		hc := httpClient(t)
		p := newPublisher(t, "t1")
		// A log that is not empty, as after a rolling restart: only n1
		// has been up while events were published.
		c := newClient(t, hc, "t1", "u1")
		c.mustConnect(nodes[1])
		if c.lastID() == "" {
			t.Errorf("sse:ready of a fresh connection on a node that has dispatched nothing yet: no id, want the log position")
		}
		c.disconnect()
		missed := p.mustPublish(nodes[0], "t1", target{kind: "user", users: []string{"u1"}})
		c.mustConnect(nodes[2])
		settle(t, p.fence(nodes[0]), c)
		if !c.has(missed) {
			t.Errorf("the event published while the client was away (%s) is lost: it had no id to resume from", missed)
		}
		p.checkExactlyOnce(t, c)
	})
}

// TestResumeOnLaggingNode has a client receive an event from one node and
// at once resume on another, whose subscription to the log may not have
// delivered that event yet: 200 times, with a publish on a rotating node
// each time. The event must not come twice.
//
// (Found when the hub skipped live events only up to the last event the
// replay read: with nothing to replay, the live events up to the client's
// Last-Event-ID that the lagging node fanned out later were delivered
// again.)
func TestResumeOnLaggingNode(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		nodes := startNodes(t, e, 3)
		hc := httpClient(t)
		c := newClient(t, hc, "t1", "u1")
		c.arrivals = make(chan arrival, 1024) // to react at once, not at the next poll; never full here
		c.mustConnect(nodes[0])
		p := newPublisher(t, "t1")
		for i := range 200 {
			id := p.mustPublish(nodes[i%3], "t1", target{kind: "user", users: []string{"u1"}})
			for arrived := false; !arrived; {
				select {
				case a := <-c.arrivals:
					arrived = a.id == id
				case <-time.After(10 * time.Second):
					t.Fatalf("event %s did not arrive within 10s", id)
				}
			}
			c.disconnect()
			c.mustConnect(nodes[(i+1)%3])
		}

		settle(t, p.fence(nodes[0]), c)
		p.checkExactlyOnce(t, c)
	})
}
