package ssehttp_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/ssehttp"
)

type connList struct {
	Node        string             `json:"node"`
	Total       int                `json:"total"`
	Connections []hub.ConnSnapshot `json:"connections"`
}

func TestConnectionsLists(t *testing.T) {
	e := newEnv(t, hub.Config{NodeID: "n1", QueueSize: 8})
	start := time.Now()
	a1 := e.open(userToken(t, "t1", "alice", "*"), "channels=room:1,news")
	a2 := e.open(userToken(t, "t1", "alice", "*"), "")
	b := e.open(userToken(t, "t1", "bob", "*"), "channels=room:1")
	c := e.open(userToken(t, "t2", "alice", "*"), "")
	admin := adminToken(t)

	get := func(query string) connList {
		t.Helper()
		r := e.do("GET", ssehttp.PathConnections+query, admin, nil)
		if r.Status != 200 {
			t.Fatalf("GET %s: got %d %s, want 200", query, r.Status, r.Raw)
		}
		var l connList
		if err := json.Unmarshal([]byte(r.Raw), &l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	ids := func(l connList) []string {
		var out []string
		for _, c := range l.Connections {
			out = append(out, string(c.ID))
		}
		return out
	}
	cases := []struct {
		query string
		want  []*client
	}{
		{"", []*client{a1, a2, b, c}},
		{"?tenantId=t1", []*client{a1, a2, b}},
		{"?tenantId=t1&userId=alice", []*client{a1, a2}},
		{"?tenantId=t2&userId=alice", []*client{c}},
		{"?tenantId=t3", nil},
		{"?tenantId=t1&limit=1", []*client{a1}},
	}
	for _, tc := range cases {
		l := get(tc.query)
		var want []string
		for _, c := range tc.want {
			want = append(want, c.ready.ConnectionID)
		}
		if got := ids(l); !slices.Equal(got, want) {
			t.Errorf("GET %q: got %v, want %v (oldest first)", tc.query, got, want)
		}
		if l.Node != "n1" {
			t.Errorf("GET %q: node %q, want n1", tc.query, l.Node)
		}
	}
	if l := get("?tenantId=t1&limit=1"); l.Total != 3 {
		t.Errorf("limit=1: total %d, want 3 (before the cap)", l.Total)
	}

	one := get("?tenantId=t1&userId=alice").Connections[0]
	if !slices.Equal(one.Channels, []string{"news", "room:1"}) || one.TenantID != "t1" || one.UserID != "alice" ||
		one.NodeID != "n1" || one.QueueCap != 8 || one.Queued != 0 || one.Resumed {
		t.Errorf("snapshot %+v: want alice in t1 on n1 with channels [news room:1], an empty queue of 8, fresh", one)
	}
	// sse:ready was written, so the last write is after the connection.
	if one.Connected.Before(start.Add(-time.Second)) || one.LastWrite.Before(one.Connected) {
		t.Errorf("connected %v, last write %v: want the last write at or after connecting, both recent", one.Connected, one.LastWrite)
	}

	a2.close()
	waitFor(t, 5*time.Second, "alice's second connection to go", func() bool {
		return len(get("?tenantId=t1&userId=alice").Connections) == 1
	})
}

func TestConnectionsErrors(t *testing.T) {
	e := newEnv(t, hub.Config{})
	cases := []struct {
		name, method, query, tok string
		status                   int
		code                     string
	}{
		{"no token", "GET", "", "", 401, ssehttp.CodeUnauthorized},
		{"not admin", "GET", "", userToken(t, "t1", "u1"), 403, ssehttp.CodeForbidden},
		{"user without tenant", "GET", "?userId=u1", adminToken(t), 400, ssehttp.CodeInvalid},
		{"bad limit", "GET", "?limit=-3", adminToken(t), 400, ssehttp.CodeInvalid},
		{"POST", "POST", "", adminToken(t), 405, ssehttp.CodeMethodNotAllowed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, ssehttp.PathConnections+tc.query, tc.tok, nil)
			if r.Status != tc.status || r.code() != tc.code {
				t.Fatalf("got %d %q, want %d %q", r.Status, r.code(), tc.status, tc.code)
			}
		})
	}
}
