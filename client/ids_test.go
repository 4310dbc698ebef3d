package client_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssehub/ssehub/client"
	"github.com/ssehub/ssehub/sse"
)

// streamEnd writes text and ends the response, so the client reconnects.
func streamEnd(text string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		fmt.Fprint(w, text)
	}
}

// TestLastEventIDRules: the WHATWG rules for the last event ID, which the
// next connection sends as Last-Event-ID: an empty id field clears it (no
// header at all), a block with an id and no data sets it, and it carries
// over a reconnection to events without an id field.
func TestLastEventIDRules(t *testing.T) {
	cases := []struct {
		name  string
		first string
		// wantHeader is the Last-Event-ID of the second request ("" means absent).
		wantHeader string
		// second is the second stream; its "message" events' ids are wantIDs.
		second  string
		wantIDs []string
	}{
		{name: "empty id resets", first: "id: 1\ndata: a\n\nid\ndata: b\n\n", wantHeader: ""},
		{name: "empty id value resets", first: "id: 1\ndata: a\n\nid:\ndata: b\n\n", wantHeader: ""},
		{name: "id-only block sets", first: "id: 5\n\n", wantHeader: "5"},
		{name: "id-only block after an event", first: "id: 1\ndata: a\n\nid: 2\n\n", wantHeader: "2"},
		{name: "id-only block resets", first: "id: 1\ndata: a\n\nid\n\n", wantHeader: ""},
		{name: "id carries over a reconnect", first: "id: 7\ndata: a\n\n", wantHeader: "7",
			second: "data: b\n\nid: 8\ndata: c\n\ndata: d\n\n", wantIDs: []string{"7", "8", "8"}},
		{name: "UTF-8 id sent as UTF-8", first: "id: é…€\ndata: a\n\n", wantHeader: "é…€"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript(t, streamEnd(tc.first), stream(tc.second))
			var mu sync.Mutex
			var ids []string
			c := newClient(t, client.Config{URL: s.srv.URL})
			c.OnRaw("message", func(ev sse.Event) {
				mu.Lock()
				defer mu.Unlock()
				ids = append(ids, ev.ID)
			})
			r := start(t, c)
			waitFor(t, 5*time.Second, "the second request", func() bool { return len(s.requests()) >= 2 })
			want := tc.wantIDs
			if want == nil {
				want = []string{}
			}
			waitFor(t, 5*time.Second, "the events", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(ids) >= len(want)+countData(tc.first)
			})
			r.stop()
			reqs := s.requests()
			if got := reqs[1].lastEventID; got != tc.wantHeader {
				t.Errorf("second request: Last-Event-ID %q, want %q", got, tc.wantHeader)
			}
			if got := reqs[1].hasLastEventID; got != (tc.wantHeader != "") {
				t.Errorf("second request: Last-Event-ID header present %v, want %v", got, tc.wantHeader != "")
			}
			mu.Lock()
			defer mu.Unlock()
			got := ids[countData(tc.first):]
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("ids on the resumed stream: got %q, want %q", got, want)
			}
		})
	}
}

// countData counts the events a stream text dispatches (one per block with data).
func countData(text string) int {
	n := 0
	for ev, err := range sse.NewDecoder(strings.NewReader(text)).Events() {
		if err != nil {
			break
		}
		_ = ev
		n++
	}
	return n
}

// TestUnsendableID: an id that is not a valid header value (a control
// character; CR, LF and NUL never reach an id) must not wedge the client:
// net/http refuses to send it, so it goes in the lastEventId query
// parameter, which ssehub reads as Last-Event-ID. So does an id with
// surrounding spaces, which a server would trim from the header.
func TestUnsendableID(t *testing.T) {
	type req struct {
		header, query string
		hasHeader     bool
	}
	var mu sync.Mutex
	var reqs []req
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		_, has := r.Header["Last-Event-Id"]
		reqs = append(reqs, req{r.Header.Get("Last-Event-ID"), r.URL.Query().Get("lastEventId"), has})
		n := len(reqs)
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		switch n {
		case 1:
			fmt.Fprint(w, "id: a\x01b\x7f\ndata: x\n\n")
		case 2:
			fmt.Fprint(w, "id:  sp \ndata: y\n\n")
		case 3:
			fmt.Fprint(w, "id: ok\ndata: z\n\n")
		}
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, client.Config{URL: srv.URL + "/api/sse?x=1"})
	r := start(t, c)
	waitFor(t, 5*time.Second, "four requests", func() bool { mu.Lock(); defer mu.Unlock(); return len(reqs) >= 4 })
	r.stop()
	mu.Lock()
	defer mu.Unlock()
	if got := reqs[1]; got.hasHeader || got.query != "a\x01b\x7f" {
		t.Errorf("second request: Last-Event-ID %q (present %v), lastEventId %q; want no header and the id in the query", got.header, got.hasHeader, got.query)
	}
	if got := reqs[2]; got.hasHeader || got.query != " sp " {
		t.Errorf("third request: Last-Event-ID %q (present %v), lastEventId %q; want no header and \" sp \" in the query (a server trims a header's spaces)", got.header, got.hasHeader, got.query)
	}
	if got := reqs[3]; got.header != "ok" || got.query != "" {
		t.Errorf("fourth request: Last-Event-ID %q, lastEventId %q; want the header again", got.header, got.query)
	}
}
