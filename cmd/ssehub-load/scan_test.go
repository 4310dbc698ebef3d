package main

import (
	"fmt"
	"strings"
	"testing"
)

// response builds a chunked SSE response with one chunk per event group.
func response(chunks ...string) string {
	var b strings.Builder
	b.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
	for _, c := range chunks {
		fmt.Fprintf(&b, "%x\r\n%s\r\n", len(c), c)
	}
	return b.String()
}

func event(id string, s int64, t int64) string {
	return fmt.Sprintf("id: %s\nevent: bench\ndata: {\"t\":%d,\"s\":%d,\"pad\":\"xx\"}\n\n", id, t, s)
}

type tally struct {
	count, lastS, missing, dupes, idErrors, badPayload, latencies int64
	err                                                           string
}

// decode feeds in to a fresh stream in pieces cut at the given offsets.
func decode(in string, cuts ...int) tally {
	var s stream
	var lat int64
	k := sink{now: 2000, record: func(int64) { lat++ }}
	prev := 0
	var err error
	for _, c := range append(cuts, len(in)) {
		b := []byte(in[prev:c]) // a copy, as a read buffer would be reused
		prev = c
		if s.st != stBody {
			var done bool
			b, done, err = s.readHead(b)
			if err != nil || !done {
				if err != nil {
					break
				}
				continue
			}
		}
		if err = s.readBody(b, &k); err != nil {
			break
		}
	}
	t := tally{s.count, s.lastS, s.missing, s.dupes, s.idErrors, s.badPayload, lat, ""}
	if err != nil {
		t.err = err.Error()
	}
	return t
}

func TestStreamDecode(t *testing.T) {
	ready := "retry: 1000\nevent: sse:ready\ndata: {\"connectionId\":\"x\"}\n\n"
	tests := []struct {
		name string
		in   string
		want tally
	}{
		{"in order", response(ready, event("ep-1", 1, 1000), event("ep-2", 2, 1000)+event("ep-3", 3, 1000), ":heartbeat\n\n"),
			tally{count: 3, lastS: 3, latencies: 3}},
		{"gap", response(event("ep-1", 1, 1000), event("ep-4", 4, 1000)),
			tally{count: 2, lastS: 4, missing: 2, latencies: 2}},
		{"duplicate", response(event("ep-1", 1, 1000), event("ep-1", 1, 1000)),
			tally{count: 2, lastS: 1, dupes: 1, idErrors: 1, latencies: 2}},
		{"base36 ids", response(event("ep-z", 1, 1000), event("ep-10", 2, 1000)),
			tally{count: 2, lastS: 2, latencies: 2}},
		{"decimal ids", response(event("9", 1, 1000), event("10", 2, 1000)),
			tally{count: 2, lastS: 2, latencies: 2}},
		{"bad id", response(event("urn:uuid:ABC", 1, 1000)),
			tally{count: 1, lastS: 1, idErrors: 1, latencies: 1}},
		{"no payload", response("data: hello\n\n"),
			tally{count: 1, badPayload: 1}},
		{"CRLF lines", response(strings.ReplaceAll(event("1", 1, 1000), "\n", "\r\n")),
			tally{count: 1, lastS: 1, latencies: 1}},
		{"end of stream", response(event("1", 1, 1000)) + "0\r\n\r\n",
			tally{count: 1, lastS: 1, latencies: 1, err: errStreamEnd.Error()}},
		{"identity body", "HTTP/1.0 200 OK\r\n\r\n" + event("1", 1, 1000),
			tally{count: 1, lastS: 1, latencies: 1}},
		{"refused", "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n",
			tally{err: `status "HTTP/1.1 401 Unauthorized": `}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decode(tt.in); got != tt.want {
				t.Fatalf("whole: got %+v, want %+v", got, tt.want)
			}
			// The same input cut anywhere, once or twice, decodes the same.
			for i := 0; i <= len(tt.in); i++ {
				if got := decode(tt.in, i); got != tt.want {
					t.Fatalf("cut at %d: got %+v, want %+v", i, got, tt.want)
				}
				j := (i * 7) % (len(tt.in) + 1)
				if got := decode(tt.in, min(i, j), max(i, j)); got != tt.want {
					t.Fatalf("cut at %d and %d: got %+v, want %+v", min(i, j), max(i, j), got, tt.want)
				}
			}
		})
	}
}

func TestPublishBodyPayload(t *testing.T) {
	for _, target := range targets {
		wl := workload{Target: target, Groups: 3, Payload: 100}
		b := wl.publishBody(2, 7, 1234567890123456789, false)
		if got := intAfter(b, patT); got != 1234567890123456789 {
			t.Errorf("%s: t = %d, want 1234567890123456789", target, got)
		}
		if got := intAfter(b, patS); got != 7 {
			t.Errorf("%s: s = %d, want 7", target, got)
		}
	}
}
