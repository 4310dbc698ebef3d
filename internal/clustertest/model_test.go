package clustertest

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// target is whom an event is for, as in the body of POST /api/events.
type target struct {
	kind    string // "user", "users", "tenant", "channel" or "broadcast"
	users   []string
	channel string
}

func (tg target) json(tenant string) map[string]any {
	switch tg.kind {
	case "user":
		return map[string]any{"userId": tg.users[0]}
	case "users":
		return map[string]any{"userIds": tg.users}
	case "tenant":
		return map[string]any{"tenantId": tenant}
	case "channel":
		return map[string]any{"channel": tg.channel}
	}
	return map[string]any{"broadcast": true}
}

// published is one event a node answered 202 for.
type published struct {
	id      string
	tenant  string // "" for a broadcast
	target  target
	exclude string // the excluded connection id, if any
	node    string // the node it was published on
}

// publisher publishes over HTTP and keeps the publish log: the events
// answered 202, which is what the model of deliveries is computed from.
type publisher struct {
	t      testing.TB
	tokens map[string]string // publisher token by tenant; "" is the admin's
	n      atomic.Int64

	mu  sync.Mutex
	log []published
	// failed holds the payload numbers of publishes that got no 202: when
	// the engine was slow rather than down, such an event may still have
	// reached the log.
	failed map[int64]bool
}

func newPublisher(t testing.TB, tenants ...string) *publisher {
	p := &publisher{t: t, tokens: map[string]string{"": adminToken(t)}}
	for _, tn := range tenants {
		p.tokens[tn] = publisherToken(t, tn)
	}
	return p
}

// errNodeDead is returned by publish for a node that was killed.
var errNodeDead = errors.New("node is dead")

// publishError is a publish answered with something other than 202.
type publishError struct {
	status int
	code   string
	body   string
}

func (e *publishError) Error() string {
	return fmt.Sprintf("status %d %s: %s", e.status, e.code, e.body)
}

// publish sends one event to nd with the tenant's publisher token (the
// admin's for a broadcast) and, when it is answered 202, appends it to the
// log.
func (p *publisher) publish(nd *node, tenant string, tg target, exclude string) (published, error) {
	nd.inflight.RLock()
	defer nd.inflight.RUnlock()
	if nd.dead.Load() {
		return published{}, errNodeDead
	}
	n := p.n.Add(1)
	body := map[string]any{
		"event":  "ct:" + tg.kind,
		"data":   map[string]any{"n": n, "tenant": tenant},
		"target": tg.json(tenant),
	}
	if tenant != "" {
		body["tenantId"] = tenant
	}
	if exclude != "" {
		body["excludeConnectionId"] = exclude
	}
	st, resp, err := nd.do("POST", "/api/events", p.tokens[tenant], body)
	if err == nil && st != http.StatusAccepted {
		err = &publishError{st, errorCode(resp), string(resp)}
	}
	if err != nil {
		p.mu.Lock()
		if p.failed == nil {
			p.failed = map[int64]bool{}
		}
		p.failed[n] = true
		p.mu.Unlock()
		return published{}, err
	}
	var r struct{ ID string }
	if err := json.Unmarshal(resp, &r); err != nil || r.ID == "" {
		return published{}, fmt.Errorf("202 without an id: %s", resp)
	}
	pub := published{id: r.ID, tenant: tenant, target: tg, exclude: exclude, node: nd.id}
	p.mu.Lock()
	p.log = append(p.log, pub)
	p.mu.Unlock()
	return pub, nil
}

// publishBatch sends n events to the same target in one request (a JSON
// array) and, when it is answered 202, appends them to the log.
func (p *publisher) publishBatch(nd *node, tenant string, tg target, n int) error {
	nd.inflight.RLock()
	defer nd.inflight.RUnlock()
	if nd.dead.Load() {
		return errNodeDead
	}
	body := make([]map[string]any, n)
	for i := range body {
		body[i] = map[string]any{
			"event": "ct:" + tg.kind, "tenantId": tenant, "target": tg.json(tenant),
			"data": map[string]any{"n": p.n.Add(1), "tenant": tenant},
		}
	}
	st, resp, err := nd.do("POST", "/api/events", p.tokens[tenant], body)
	if err != nil {
		return err
	}
	if st != http.StatusAccepted {
		return &publishError{st, errorCode(resp), string(resp)}
	}
	var r struct{ IDs []string }
	if err := json.Unmarshal(resp, &r); err != nil || len(r.IDs) != n {
		return fmt.Errorf("202 without %d ids: %s", n, resp)
	}
	p.mu.Lock()
	for _, id := range r.IDs {
		p.log = append(p.log, published{id: id, tenant: tenant, target: tg, node: nd.id})
	}
	p.mu.Unlock()
	return nil
}

// mustPublish is publish that fails the test on error.
func (p *publisher) mustPublish(nd *node, tenant string, tg target) string {
	p.t.Helper()
	pub, err := p.publish(nd, tenant, tg, "")
	if err != nil {
		p.t.Fatalf("publish %s on %s: %v", tg.kind, nd.id, err)
	}
	return pub.id
}

// fence broadcasts one last event on nd. Each connection receives its
// events in log order, so a client that has the fence has everything
// published before it.
func (p *publisher) fence(nd *node) string {
	p.t.Helper()
	return p.mustPublish(nd, "", target{kind: "broadcast"})
}

// lastID returns the id of the last event in the log.
func (p *publisher) lastID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log[len(p.log)-1].id
}

func (p *publisher) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.log)
}

// randomTarget picks a tenant and a target among the given users and
// channels: mostly per-tenant targets, sometimes a broadcast.
func randomTarget(rng *rand.Rand, tenants, users, channels []string) (string, target) {
	tenant := tenants[rng.IntN(len(tenants))]
	switch rng.IntN(10) {
	case 0, 1:
		return tenant, target{kind: "user", users: []string{users[rng.IntN(len(users))]}}
	case 2:
		a, b := users[rng.IntN(len(users))], users[rng.IntN(len(users))]
		return tenant, target{kind: "users", users: slices.Compact(slices.Sorted(slices.Values([]string{a, b})))}
	case 3, 4:
		return tenant, target{kind: "tenant"}
	case 5, 6, 7, 8:
		return tenant, target{kind: "channel", channel: channels[rng.IntN(len(channels))]}
	}
	return "", target{kind: "broadcast"}
}

// meantFor is the rule of delivery: whether c must receive pub.
func meantFor(pub published, c *client) bool {
	if pub.exclude != "" && slices.Contains(c.connIDs, pub.exclude) {
		return false
	}
	if pub.target.kind == "broadcast" {
		return true
	}
	if pub.tenant != c.tenant {
		return false
	}
	switch pub.target.kind {
	case "tenant":
		return true
	case "user", "users":
		return slices.Contains(pub.target.users, c.user)
	case "channel":
		return slices.Contains(c.channels, pub.target.channel)
	}
	return false
}

// logOrder sorts ids in log order: epochs in the order the publish log
// first saw them, then by sequence number.
func (p *publisher) logOrder(ids []string) {
	rank := map[string]int{}
	p.mu.Lock()
	for _, pub := range p.log {
		e, _ := splitID(pub.id)
		if _, ok := rank[e]; !ok {
			rank[e] = len(rank)
		}
	}
	p.mu.Unlock()
	slices.SortFunc(ids, func(a, b string) int {
		ea, sa := splitID(a)
		eb, sb := splitID(b)
		return cmp.Or(cmp.Compare(rank[ea], rank[eb]), cmp.Compare(sa, sb))
	})
}

// splitID splits "<epoch>-<seq in base 36>".
func splitID(id string) (string, uint64) {
	e, s, _ := strings.Cut(id, "-")
	n, _ := strconv.ParseUint(s, 36, 64)
	return e, n
}

// want returns the ids c must have received, in log order: the events of
// the log meant for it.
func (p *publisher) want(c *client) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	p.mu.Lock()
	var out []string
	for _, pub := range p.log {
		if meantFor(pub, c) {
			out = append(out, pub.id)
		}
	}
	p.mu.Unlock()
	p.logOrder(out)
	return out
}

// tenantOf returns the tenant of a published id ("" for a broadcast) and
// whether it is in the log.
func (p *publisher) tenantOf(id string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pub := range p.log {
		if pub.id == id {
			return pub.tenant, true
		}
	}
	return "", false
}

// settle waits until every client has received the fence.
func settle(t testing.TB, fence string, clients ...*client) {
	t.Helper()
	for _, c := range clients {
		waitFor(t, 20*time.Second, fmt.Sprintf("client %s to receive the fence %s", c.name, fence), func() bool { return c.has(fence) })
	}
}

// checkExactlyOnce compares what c received with the model: every event
// meant for it, once, in log order, and nothing else.
func (p *publisher) checkExactlyOnce(t testing.TB, c *client) {
	t.Helper()
	p.compare(t, c, c.received())
}

// withoutFailed returns what c received without the events of publishes
// that failed (see publisher.failed), and how many there were. Each may
// appear at most once.
func (p *publisher) withoutFailed(t testing.TB, c *client) ([]string, int) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	seen := map[int64]bool{}
	for _, id := range c.ids {
		var d struct{ N int64 }
		_ = json.Unmarshal([]byte(c.data[id]), &d)
		if p.failed[d.N] {
			if seen[d.N] {
				t.Errorf("client %s: the event of failed publish %d came twice", c.name, d.N)
			}
			seen[d.N] = true
			continue
		}
		out = append(out, id)
	}
	return out, len(seen)
}

// compare checks got, what c received, against the model.
func (p *publisher) compare(t testing.TB, c *client, got []string) {
	t.Helper()
	want := p.want(c)
	for _, id := range got {
		if tn, ok := p.tenantOf(id); ok && tn != "" && tn != c.tenant {
			t.Errorf("client %s: TENANT ISOLATION BROKEN: received %s of tenant %s", c.name, id, tn)
		}
	}
	if slices.Equal(got, want) {
		return
	}
	t.Errorf("client %s: got %d events, want %d exactly once in log order; %s", c.name, len(got), len(want), diff(got, want))
}

// diff describes how got differs from want.
func diff(got, want []string) string {
	inWant := map[string]bool{}
	for _, id := range want {
		inWant[id] = true
	}
	seen := map[string]int{}
	var dup, extra, missing []string
	for _, id := range got {
		seen[id]++
		if seen[id] == 2 {
			dup = append(dup, id)
		}
		if !inWant[id] {
			extra = append(extra, id)
		}
	}
	for _, id := range want {
		if seen[id] == 0 {
			missing = append(missing, id)
		}
	}
	first := 0
	for first < len(got) && first < len(want) && got[first] == want[first] {
		first++
	}
	head := func(s []string) []string { return s[:min(len(s), 8)] }
	return fmt.Sprintf("first difference at %d; missing %d %v, duplicated %d %v, unexpected %d %v",
		first, len(missing), head(missing), len(dup), head(dup), len(extra), head(extra))
}
