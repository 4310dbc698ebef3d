package hub

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ssehub/ssehub/broker"
)

// A hub whose broker is also a broker.Bus is one node of a cluster. The
// nodes keep each other informed over the bus so that what works on one
// node works across nodes:
//
//   - each node announces its connections (deltas at once, a full snapshot
//     every few presence intervals, a short "alive" in between), so per-user
//     limits hold cluster-wide: every node orders a user's connections the
//     same way (oldest first) and evicts its own that fall past the limit.
//     A node evicts for its own connections at once, but for connections on
//     other nodes only after a presence interval, counting only nodes heard
//     from since: the connections of a node that crashed must not push a
//     live tab out while its user fails over;
//   - subscription changes for a connection on another node are forwarded
//     to it and answered;
//   - stats are gathered from every node;
//   - disable/enable reaches every node (last writer wins, by time).
//
// Lock order: Hub.mu, then cluster.mu.

const (
	ctlOpen      = "conn.open"  // queued only: sent inside ctlConns
	ctlClose     = "conn.close" // queued only: sent inside ctlConns
	ctlConns     = "conns"      // a batch of opens and closes, in order
	ctlPresence  = "presence"
	ctlSubsReq   = "subs.req"
	ctlSubsResp  = "subs.resp"
	ctlStatsReq  = "stats.req"
	ctlStatsResp = "stats.resp"
	ctlDisable   = "disable"
)

type remoteConn struct {
	ID      ConnID `json:"i"`
	Tenant  string `json:"t"`
	User    string `json:"u"`
	Created int64  `json:"c"` // unix nanoseconds
}

// connsBody is a batch of connection changes; Open[i] == false means a
// close.
type connsBody struct {
	Open  []bool       `json:"o"`
	Conns []remoteConn `json:"c"`
}

// presenceBody says a node is alive. A full snapshot of its connections is
// sent in parts of at most snapshotPart connections (a NATS message is
// limited to 1 MB by default); the last part replaces what was known.
type presenceBody struct {
	Full        bool         `json:"f,omitempty"` // part of a full snapshot
	Snap        int64        `json:"s,omitempty"` // the snapshot's id
	Last        bool         `json:"l,omitempty"` // the snapshot's last part
	Conns       []remoteConn `json:"c,omitempty"`
	Disabled    bool         `json:"d"`
	DisabledVer int64        `json:"v"`
}

type subsBody struct {
	Req         string   `json:"r"`
	ConnID      ConnID   `json:"i,omitempty"`
	Tenant      string   `json:"t,omitempty"`
	User        string   `json:"u,omitempty"`
	Subscribe   []string `json:"s,omitempty"`
	Unsubscribe []string `json:"x,omitempty"`
	Channels    []string `json:"c,omitempty"`
	Err         string   `json:"e,omitempty"` // "not_found", "too_many_channels" or a message
}

type statsBody struct {
	Req   string `json:"r"`
	Stats *Stats `json:"s,omitempty"`
}

type disableBody struct {
	Disabled bool  `json:"d"`
	Ver      int64 `json:"v"`
}

type remoteNode struct {
	seen  time.Time
	conns map[ConnID]remoteConn
	snap  int64                 // the snapshot being received
	parts map[ConnID]remoteConn // its parts so far
}

// snapshotPart is the most connections one presence message lists, and
// batchMax the most changes one conns message carries.
const (
	snapshotPart = 4000
	batchMax     = 4000
)

type cluster struct {
	h        *Hub
	bus      broker.Bus
	interval time.Duration

	// The send queue: messages in order, up to maxQueued, taken in one go
	// by the send loop. It grows with a burst and is let go after it, so an
	// idle node holds no queue.
	outMu   sync.Mutex
	out     []outMsg
	outWake chan struct{}

	mu          sync.Mutex
	nodes       map[string]*remoteNode
	byUser      map[userKey]map[ConnID]remoteConn
	pending     map[string]chan broker.Control
	disabledVer int64
	checks      map[userKey]time.Time // per-user limit checks due, by when they were asked
}

func newCluster(h *Hub, bus broker.Bus, interval time.Duration) *cluster {
	return &cluster{
		h: h, bus: bus, interval: interval,
		outWake: make(chan struct{}, 1),
		nodes:   map[string]*remoteNode{},
		byUser:  map[userKey]map[ConnID]remoteConn{},
		pending: map[string]chan broker.Control{},
		checks:  map[userKey]time.Time{},
	}
}

// fullEvery is how many presence intervals pass between full snapshots.
const fullEvery = 6

// nodeOf returns the node part of a connection id.
func nodeOf(id ConnID) string {
	if i := strings.LastIndexByte(string(id), '.'); i > 0 {
		return string(id[:i])
	}
	return ""
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("hub: " + err.Error()) // only our own plain structs are encoded
	}
	return b
}

// send queues a control message; the send loop keeps them in order. When
// the queue is full the message is dropped: the next presence snapshot
// repairs what a lost delta would have told.
func (cl *cluster) send(kind, to string, body any) {
	cl.queue(outMsg{c: broker.Control{Kind: kind, From: cl.h.nodeID, To: to, Body: mustJSON(body)}})
}

// outMsg is a queued message: a control message, or a connection change
// (conn set) that the send loop batches into a conns message.
type outMsg struct {
	c    broker.Control
	conn *remoteConn
	open bool
}

// sendConn queues a connection change, encoded by the send loop in a
// batch with the changes queued with it.
func (cl *cluster) sendConn(kind string, c *Conn) {
	if !cl.tracking() {
		return
	}
	rc := c.remote()
	cl.queue(outMsg{conn: &rc, open: kind == ctlOpen})
}

// tracking reports whether nodes keep each other's connections: only the
// per-user limit needs them.
func (cl *cluster) tracking() bool { return cl.h.cfg.MaxConnsPerUser > 0 }

// maxQueued is how many messages may wait for the send loop.
const maxQueued = 1 << 16

func (cl *cluster) queue(m outMsg) {
	cl.outMu.Lock()
	if len(cl.out) >= maxQueued {
		cl.outMu.Unlock()
		cl.h.cfg.Logger.Warn("cluster send queue full, dropping control message", "kind", m.c.Kind)
		return
	}
	cl.out = append(cl.out, m)
	cl.outMu.Unlock()
	select {
	case cl.outWake <- struct{}{}:
	default:
	}
}

// takeQueued removes and returns every queued message, in order.
func (cl *cluster) takeQueued() []outMsg {
	cl.outMu.Lock()
	defer cl.outMu.Unlock()
	q := cl.out
	cl.out = nil
	return q
}

// sendLoop sends the queued messages in order. Connection changes queued
// one after another go out as one conns message, so that a burst of
// thousands of connects costs a few messages, not thousands.
func (cl *cluster) sendLoop() {
	var batch connsBody
	flush := func() {
		if len(batch.Conns) > 0 {
			cl.transmit(broker.Control{Kind: ctlConns, From: cl.h.nodeID, Body: mustJSON(batch)})
			batch = connsBody{}
		}
	}
	for {
		select {
		case <-cl.outWake:
			for q := cl.takeQueued(); len(q) > 0; q = cl.takeQueued() {
				for _, m := range q {
					if m.conn != nil {
						batch.Open = append(batch.Open, m.open)
						batch.Conns = append(batch.Conns, *m.conn)
						if len(batch.Conns) >= batchMax {
							flush()
						}
					} else {
						flush()
						cl.transmit(m.c)
					}
				}
			}
			flush()
		case <-cl.h.quit:
			return
		}
	}
}

func (cl *cluster) transmit(c broker.Control) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := cl.bus.Send(ctx, c); err != nil {
		cl.h.cfg.Logger.Warn("cluster send failed", "kind", c.Kind, "err", err)
	}
}

func (cl *cluster) presenceLoop() {
	t := time.NewTicker(cl.interval)
	defer t.Stop()
	due := time.NewTicker(cl.interval / 4)
	defer due.Stop()
	cl.sendPresence(true)
	for n := 1; ; n++ {
		select {
		case <-t.C:
			cl.sendPresence(n%fullEvery == 0)
			cl.expire(time.Now())
		case now := <-due.C:
			cl.runChecks(now)
		case <-cl.h.quit:
			return
		}
	}
}

func (cl *cluster) sendPresence(full bool) {
	h := cl.h
	full = full && cl.tracking()
	var conns []remoteConn
	h.mu.RLock()
	disabled := h.disabled
	if full {
		conns = make([]remoteConn, 0, len(h.reg.conns))
		for _, c := range h.reg.conns {
			conns = append(conns, c.remote())
		}
	}
	h.mu.RUnlock()
	cl.mu.Lock()
	ver := cl.disabledVer
	cl.mu.Unlock()
	if !full {
		cl.send(ctlPresence, "", presenceBody{Disabled: disabled, DisabledVer: ver})
		return
	}
	snap := time.Now().UnixNano()
	for i := 0; ; i += snapshotPart {
		part := conns[i:min(i+snapshotPart, len(conns))]
		last := i+snapshotPart >= len(conns)
		cl.send(ctlPresence, "", presenceBody{Full: true, Snap: snap, Last: last, Conns: part, Disabled: disabled, DisabledVer: ver})
		if last {
			return
		}
	}
}

func (c *Conn) remote() remoteConn {
	return remoteConn{ID: c.id, Tenant: c.tenant, User: c.user, Created: c.created.UnixNano()}
}

// expire forgets nodes not heard from for three presence intervals.
func (cl *cluster) expire(now time.Time) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	for id, n := range cl.nodes {
		if now.Sub(n.seen) > 3*cl.interval {
			for _, rc := range n.conns {
				cl.forget(rc)
			}
			delete(cl.nodes, id)
			cl.h.cfg.Logger.Warn("cluster node gone silent", "node", id)
		}
	}
}

// node returns the record of a remote node. cl.mu is held.
func (cl *cluster) node(id string) *remoteNode {
	n := cl.nodes[id]
	if n == nil {
		n = &remoteNode{conns: map[ConnID]remoteConn{}}
		cl.nodes[id] = n
		cl.h.cfg.Logger.Info("cluster node seen", "node", id)
	}
	n.seen = time.Now()
	return n
}

// remember and forget keep byUser in step with the nodes. cl.mu is held.
func (cl *cluster) remember(n *remoteNode, rc remoteConn) {
	n.conns[rc.ID] = rc
	uk := userKey{rc.Tenant, rc.User}
	m := cl.byUser[uk]
	if m == nil {
		m = map[ConnID]remoteConn{}
		cl.byUser[uk] = m
	}
	m[rc.ID] = rc
}

func (cl *cluster) forget(rc remoteConn) {
	uk := userKey{rc.Tenant, rc.User}
	if m := cl.byUser[uk]; m != nil {
		delete(m, rc.ID)
		if len(m) == 0 {
			delete(cl.byUser, uk)
		}
	}
}

// remoteCount returns how many connections other nodes hold for uk.
// cl.mu is taken.
func (cl *cluster) remoteCount(uk userKey) int {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return len(cl.byUser[uk])
}

// receive handles one control message from the bus.
func (cl *cluster) receive(c broker.Control) {
	h := cl.h
	if c.To != "" && c.To != h.nodeID {
		return
	}
	self := c.From == h.nodeID
	switch c.Kind {
	case ctlConns, ctlPresence:
		if self {
			return
		}
		cl.membership(c)
	case ctlDisable:
		var b disableBody
		if json.Unmarshal(c.Body, &b) == nil {
			cl.applyDisable(b.Disabled, b.Ver)
		}
	case ctlSubsReq:
		var b subsBody
		if json.Unmarshal(c.Body, &b) != nil {
			return
		}
		chans, err := h.updateLocal(b.ConnID, b.Tenant, b.User, b.Subscribe, b.Unsubscribe)
		resp := subsBody{Req: b.Req, Channels: chans}
		if err != nil {
			resp.Err = err.Error()
			if isNotFound(err) {
				resp.Err = "not_found"
			} else if errors.Is(err, ErrTooManyChannels) {
				resp.Err = "too_many_channels"
			}
		}
		cl.send(ctlSubsResp, c.From, resp)
	case ctlStatsReq:
		var b statsBody
		if json.Unmarshal(c.Body, &b) != nil {
			return
		}
		s := h.Stats()
		cl.send(ctlStatsResp, c.From, statsBody{Req: b.Req, Stats: &s})
	case ctlSubsResp, ctlStatsResp:
		var b struct {
			Req string `json:"r"`
		}
		if json.Unmarshal(c.Body, &b) != nil {
			return
		}
		cl.mu.Lock()
		ch := cl.pending[b.Req]
		cl.mu.Unlock()
		if ch != nil {
			select {
			case ch <- c:
			default:
			}
		}
	}
}

// membership applies a remote node's open, close or presence message, and
// asks for a per-user limit check of the users it names.
func (cl *cluster) membership(c broker.Control) {
	h := cl.h
	h.mu.Lock()
	cl.mu.Lock()
	defer h.mu.Unlock()
	n := cl.node(c.From)
	var touched []userKey
	switch c.Kind {
	case ctlConns:
		var b connsBody
		if json.Unmarshal(c.Body, &b) == nil && len(b.Open) == len(b.Conns) {
			for i, rc := range b.Conns {
				if b.Open[i] {
					cl.remember(n, rc)
					touched = append(touched, userKey{rc.Tenant, rc.User})
				} else if old, ok := n.conns[rc.ID]; ok {
					delete(n.conns, rc.ID)
					cl.forget(old)
				}
			}
		}
	case ctlPresence:
		var b presenceBody
		if json.Unmarshal(c.Body, &b) == nil && b.Full {
			if b.Snap != n.snap {
				n.snap, n.parts = b.Snap, make(map[ConnID]remoteConn, len(b.Conns))
			}
			for _, rc := range b.Conns {
				n.parts[rc.ID] = rc
			}
			if b.Last {
				for _, rc := range n.conns {
					cl.forget(rc)
				}
				n.conns = make(map[ConnID]remoteConn, len(n.parts))
				for _, rc := range n.parts {
					cl.remember(n, rc)
					touched = append(touched, userKey{rc.Tenant, rc.User})
				}
				n.snap, n.parts = 0, nil
			}
		}
		if b.DisabledVer > cl.disabledVer {
			defer cl.applyDisable(b.Disabled, b.DisabledVer)
		}
	}
	if max := h.cfg.MaxConnsPerUser; max > 0 && h.cfg.UserLimitPolicy == EvictOldest {
		now := time.Now()
		for _, uk := range touched {
			if len(h.reg.byUser[uk])+len(cl.byUser[uk]) > max {
				cl.askCheck(uk, now)
			}
		}
	}
	cl.mu.Unlock()
}

// askCheck asks for a per-user limit check of uk one presence interval
// from now. cl.mu is held.
func (cl *cluster) askCheck(uk userKey, now time.Time) {
	if _, ok := cl.checks[uk]; !ok {
		cl.checks[uk] = now
	}
}

// runChecks runs the per-user limit checks asked for at least a presence
// interval ago, counting only the connections of nodes heard from since
// the check was asked: a node that crashed has gone quiet, and its
// connections are gone with it.
func (cl *cluster) runChecks(now time.Time) {
	h := cl.h
	var victims []*Conn
	h.mu.Lock()
	cl.mu.Lock()
	var due []userKey
	var since []time.Time
	for uk, at := range cl.checks {
		if now.Sub(at) >= cl.interval+cl.interval/4 {
			due = append(due, uk)
			since = append(since, at)
			delete(cl.checks, uk)
		}
	}
	cl.mu.Unlock()
	for i, uk := range due {
		for _, v := range h.userEvictions(uk, nil, since[i]) {
			h.reg.remove(v)
			victims = append(victims, v)
		}
	}
	h.mu.Unlock()
	for _, v := range victims {
		v.logger().Info("evicting connection: user limit reached across the cluster")
		h.stats.evicted.Add(1)
		v.end(ReasonEvicted)
	}
}

// userEvictions returns this node's connections of uk that fall past the
// per-user limit when the user's connections (plus extra, a connection
// about to register) are ordered oldest first. Connections on other nodes
// count only when those nodes were heard from since the given time; the
// zero time leaves them out. Every node computes the same order, so each
// evicts its own share and no more. h.mu is held.
func (h *Hub) userEvictions(uk userKey, extra *Conn, remoteSince time.Time) []*Conn {
	max := h.cfg.MaxConnsPerUser
	if max <= 0 {
		return nil
	}
	type entry struct {
		created int64
		id      ConnID
		local   *Conn
	}
	var list []entry
	for _, c := range h.reg.byUser[uk] {
		list = append(list, entry{c.created.UnixNano(), c.id, c})
	}
	if extra != nil {
		list = append(list, entry{extra.created.UnixNano(), extra.id, extra})
	}
	if h.cl != nil && !remoteSince.IsZero() {
		h.cl.mu.Lock()
		for _, rc := range h.cl.byUser[uk] {
			if n := h.cl.nodes[nodeOf(rc.ID)]; n != nil && !n.seen.Before(remoteSince) {
				list = append(list, entry{rc.Created, rc.ID, nil})
			}
		}
		h.cl.mu.Unlock()
	}
	if len(list) <= max {
		return nil
	}
	slices.SortFunc(list, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.created, b.created), cmp.Compare(a.id, b.id))
	})
	var out []*Conn
	for _, e := range list[:len(list)-max] {
		if e.local != nil && e.local != extra {
			out = append(out, e.local)
		}
	}
	return out
}

// applyDisable sets the disabled state when ver is newer than the last
// one applied.
func (cl *cluster) applyDisable(disabled bool, ver int64) {
	cl.mu.Lock()
	if ver <= cl.disabledVer {
		cl.mu.Unlock()
		return
	}
	cl.disabledVer = ver
	cl.mu.Unlock()
	cl.h.setDisabledLocal(disabled)
}

// request sends a request to one node (or all, when to is "") and returns
// a channel of the answers, and a function to call when done.
func (cl *cluster) request(kind, to string, body func(req string) any) (<-chan broker.Control, func()) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	req := hex.EncodeToString(b[:])
	ch := make(chan broker.Control, 64)
	cl.mu.Lock()
	cl.pending[req] = ch
	cl.mu.Unlock()
	cl.send(kind, to, body(req))
	return ch, func() {
		cl.mu.Lock()
		delete(cl.pending, req)
		cl.mu.Unlock()
	}
}

// remoteUpdate forwards a subscription change to the node holding the
// connection.
func (cl *cluster) remoteUpdate(ctx context.Context, node string, id ConnID, tenant, user string, sub, unsub []string) ([]string, error) {
	// A node not heard from yet may still hold the connection (it may have
	// opened a moment ago): ask anyway, and wait less for a node unknown.
	cl.mu.Lock()
	_, known := cl.nodes[node]
	cl.mu.Unlock()
	wait := 3 * time.Second
	if !known {
		wait = time.Second
	}
	ch, done := cl.request(ctlSubsReq, node, func(req string) any {
		return subsBody{Req: req, ConnID: id, Tenant: tenant, User: user, Subscribe: sub, Unsubscribe: unsub}
	})
	defer done()
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	select {
	case c := <-ch:
		var b subsBody
		if err := json.Unmarshal(c.Body, &b); err != nil {
			return nil, err
		}
		switch b.Err {
		case "":
			return b.Channels, nil
		case "not_found":
			return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
		case "too_many_channels":
			return nil, fmt.Errorf("%w: node %s refused the change", ErrTooManyChannels, node)
		default:
			return nil, fmt.Errorf("hub: node %s: %s", node, b.Err)
		}
	case <-ctx.Done():
		if !known {
			return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
		}
		return nil, fmt.Errorf("%w: node %s did not answer: %v", broker.ErrUnavailable, node, ctx.Err())
	}
}

// gatherStats asks every node for its stats and waits for the nodes it
// knows, or until the timeout.
func (cl *cluster) gatherStats(ctx context.Context) []Stats {
	cl.mu.Lock()
	want := len(cl.nodes) + 1
	cl.mu.Unlock()
	ch, done := cl.request(ctlStatsReq, "", func(req string) any { return statsBody{Req: req} })
	defer done()
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var out []Stats
	seen := map[string]bool{}
	for len(out) < want {
		select {
		case c := <-ch:
			var b statsBody
			if json.Unmarshal(c.Body, &b) == nil && b.Stats != nil && !seen[b.Stats.NodeID] {
				seen[b.Stats.NodeID] = true
				out = append(out, *b.Stats)
			}
		case <-ctx.Done():
			return out
		}
	}
	return out
}
