package main

import (
	"fmt"
	"strconv"
	"strings"
)

// workload says who subscribes to what and what gets published. It is the
// same in the parent and in worker processes.
//
// Connection i is in group g = i % Groups (always 0 for broadcast), and the
// publisher sends event k to group k % Groups, so every connection knows
// which events are meant for it: its group's events, numbered 1, 2, 3, …
// in the payload's "s" field.
//
//	target     connection i                        event k
//	broadcast  user u<i>, tenant t<i%10>           {"broadcast":true}
//	tenant     user u<i>, tenant t<g>              {"tenantId":"t<g>"}
//	user       user u<g>, tenant t0                {"userId":"u<g>"}
//	channel    user u<i>, tenant t0, ?channels=c<g> {"channel":"c<g>"}
//
// The user target puts N/Groups connections on each user: ssehub must run
// with --max-conns-per-user -1 (as --spawn does).
type workload struct {
	Target string `json:"target"`
	Groups int    `json:"groups"`
	Host   string `json:"host"` // Host header: host:port
	// Hosts, when the connections are spread over several servers, is the
	// Host header of each server (host:port), in --url order; connection i
	// goes to Hosts[serverOf(i, groups, len(Hosts))].
	Hosts       []string `json:"hosts,omitempty"`
	SubPath     string   `json:"sub_path"`
	PubPath     string   `json:"pub_path"`
	Secret      string   `json:"secret"`
	TenantClaim string   `json:"tenant_claim"`
	Payload     int      `json:"payload"` // approximate bytes of event data
}

var targets = []string{"broadcast", "tenant", "user", "channel"}

// serverOf returns which of k servers connection i of a workload with
// groups publish groups connects to: consecutive blocks of groups
// connections go to the servers in turn, so that every group is spread
// over every server (for broadcast, connection i goes to server i % k).
func serverOf(i, groups, k int) int {
	if k <= 1 {
		return 0
	}
	return (i / max(groups, 1)) % k
}

func (w workload) groups() int {
	if w.Target == "broadcast" {
		return 1
	}
	return max(w.Groups, 1)
}

func (w workload) minter() minter {
	return minter{secret: []byte(w.Secret), tenantClaim: w.TenantClaim}
}

// request returns connection i's HTTP request.
func (w workload) request(m minter, i int) []byte {
	g := i % w.groups()
	c := claims{Sub: "u" + strconv.Itoa(i), Tenant: "t0"}
	path := w.SubPath
	switch w.Target {
	case "broadcast":
		c.Tenant = "t" + strconv.Itoa(i%10)
	case "tenant":
		c.Tenant = "t" + strconv.Itoa(g)
	case "user":
		c.Sub = "u" + strconv.Itoa(g)
	case "channel":
		c.Channels = []string{"*"}
		path += sep(path) + "channels=c" + strconv.Itoa(g)
	}
	var b strings.Builder
	b.Grow(512)
	host := w.Host
	if len(w.Hosts) > 0 {
		host = w.Hosts[serverOf(i, w.groups(), len(w.Hosts))]
	}
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n", path, host)
	if w.Secret != "" {
		fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", m.mint(c))
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}

// publisherToken returns the token of the publisher: admin, so that it may
// broadcast, and bound to no tenant.
func (w workload) publisherToken() string {
	if w.Secret == "" {
		return ""
	}
	return w.minter().mint(claims{Sub: "ssehub-load", Roles: []string{"publisher", "admin"}, Global: true})
}

// publishBody returns the POST body of the seq-th event of group g, emitted
// at unix nanos t. The data is {"t":<t>,"s":<seq>,"pad":"…"}, padded to
// about w.Payload bytes, with "w":1 first for a warm-up event.
func (w workload) publishBody(g int, seq int64, t int64, warm bool) []byte {
	data := make([]byte, 0, w.Payload+32)
	if warm {
		data = fmt.Appendf(data, `{"w":1,"t":%d,"s":%d,"pad":"`, t, seq)
	} else {
		data = fmt.Appendf(data, `{"t":%d,"s":%d,"pad":"`, t, seq)
	}
	for len(data) < w.Payload-2 {
		data = append(data, 'x')
	}
	data = append(data, `"}`...)
	gs := strconv.Itoa(g)
	var b []byte
	switch w.Target {
	case "broadcast":
		b = fmt.Appendf(nil, `{"event":"bench","data":%s,"target":{"broadcast":true}}`, data)
	case "tenant":
		b = fmt.Appendf(nil, `{"event":"bench","tenantId":"t%s","data":%s,"target":{"tenantId":"t%s"}}`, gs, data, gs)
	case "user":
		b = fmt.Appendf(nil, `{"event":"bench","tenantId":"t0","data":%s,"target":{"userId":"u%s"}}`, data, gs)
	case "channel":
		b = fmt.Appendf(nil, `{"event":"bench","tenantId":"t0","data":%s,"target":{"channel":"c%s"}}`, data, gs)
	}
	return b
}
