package main

import (
	"errors"
	"net/netip"
	"sort"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// recvConfig describes the connections of one receiver.
type recvConfig struct {
	Servers  []netip.AddrPort // where to connect: connection i to Servers[serverOf(i, Groups, len(Servers))]
	Lo, Hi   int              // global indexes of the connections [Lo, Hi)
	Groups   int              // publish groups; connection i is in group i % Groups
	Loops    int              // event loops
	Inflight int              // connects in flight at most
	Request  func(i int) []byte
}

// progress is a snapshot for the progress display.
type progress struct {
	Attempted int64 `json:"attempted"`
	Connected int64 `json:"connected"`
	// ConnectedBy counts the connected streams of each server, in --url
	// order, when there are several.
	ConnectedBy []int64 `json:"connected_by,omitempty"`
	Failed      int64   `json:"failed"`
	Closed      int64   `json:"closed"`
	Received    int64   `json:"received"`
	CPUSecs     float64 `json:"cpu_secs"` // of the process
}

func newLatencyHist() *hdr.Histogram { return hdr.New(1, 10*60*1e6, 3) } // 1 µs to 10 min

func topErrors(m map[string]int, n int) map[string]int {
	type kv struct {
		k string
		v int
	}
	var all []kv
	for k, v := range m {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v })
	out := map[string]int{}
	for i, e := range all {
		if i < n {
			out[e.k] = e.v
		} else {
			out["(other errors)"] += e.v
		}
	}
	return out
}

var errNoLinux = errors.New("ssehub-load needs Linux (epoll and /proc)")
