package ssehttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/ssehub/ssehub/hub"
)

func assertJSONError(t *testing.T, resp *http.Response, code string) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type: got %q, want application/json", ct)
	}
	var body struct {
		Error struct{ Code, Message string }
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &body); err != nil || body.Error.Code != code || body.Error.Message == "" {
		t.Errorf("error body: got %s, want code %q and a message", raw, code)
	}
}

func expiredToken(t *testing.T, c jwt.MapClaims) string {
	c["exp"] = jwt.NewNumericDate(time.Now().Add(-time.Minute))
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestStreamAuthErrors(t *testing.T) {
	e := newEnv(t, hub.Config{Heartbeat: time.Hour})
	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "u1", "tid": "t1"})
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	hs384 := jwt.NewWithClaims(jwt.SigningMethodHS384, jwt.MapClaims{"sub": "u1", "tid": "t1"})
	hs384Tok, _ := hs384.SignedString(secret)
	wrongKey := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "u1", "tid": "t1"})
	wrongKeyTok, _ := wrongKey.SignedString([]byte("another-secret-another-secret-another"))
	cases := []struct {
		name, tok, query string
		status           int
		code             string
	}{
		{"no token", "", "", 401, "unauthorized"},
		{"bogus token", "not.a.jwt", "", 401, "unauthorized"},
		{"alg none", noneTok, "", 401, "unauthorized"},
		{"wrong algorithm", hs384Tok, "", 401, "unauthorized"},
		{"wrong key", wrongKeyTok, "", 401, "unauthorized"},
		{"expired", expiredToken(t, jwt.MapClaims{"sub": "u1", "tid": "t1"}), "", 401, "token_expired"},
		{"channel not permitted", userToken(t, "t1", "u1", "room:*"), "channels=secret", 403, "forbidden"},
		{"channel with a newline", userToken(t, "t1", "u1", "*"), "channels=a%0Ab", 400, "invalid_request"},
		{"publisher without tenant", adminToken(t), "", 403, "forbidden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, resp := e.tryOpen(tc.tok, tc.query)
			if c != nil {
				t.Fatalf("got a stream, want %d", tc.status)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("got %d, want %d", resp.StatusCode, tc.status)
			}
			assertJSONError(t, resp, tc.code)
		})
	}
	if n := e.hub.Stats().TotalClients; n != 0 {
		t.Fatalf("clients after refused streams: got %d, want 0", n)
	}
}

func TestStreamTokenFromQuery(t *testing.T) {
	e := newEnv(t, hub.Config{Heartbeat: time.Hour})
	c := e.open("", "access_token="+userToken(t, "t1", "u1"))
	if c.ready.UserID != "u1" {
		t.Fatalf("ready: got %+v", c.ready)
	}
}

func TestPublishErrors(t *testing.T) {
	e := newEnv(t, hub.Config{Heartbeat: time.Hour, Schema: func(_ context.Context, event, _ string, data json.RawMessage) (json.RawMessage, error) {
		if event == "catalog:strict" && !strings.Contains(string(data), `"ok"`) {
			return nil, errors.New(`/ok: missing property`)
		}
		return data, nil
	}})
	watcher := e.open(userToken(t, "t1", "u1", "*"), "channels=room:1")
	pub := publisherToken(t, "t1")
	good := func() map[string]any {
		return ev("a:b", "t1", map[string]any{"userId": "u1"}, map[string]any{"k": "v"})
	}
	with := func(k string, v any) map[string]any { m := good(); m[k] = v; return m }
	cases := []struct {
		name   string
		tok    string
		body   any
		status int
		code   string
	}{
		{"no token", "", good(), 401, "unauthorized"},
		{"expired token", expiredToken(t, jwt.MapClaims{"sub": "b", "tid": "t1", "roles": []string{"publisher"}}), good(), 401, "token_expired"},
		{"not a publisher", userToken(t, "t1", "u1"), good(), 403, "forbidden"},
		{"other tenant", pub, with("tenantId", "t2"), 403, "forbidden"},
		{"broadcast without admin", pub, ev("a:b", "", map[string]any{"broadcast": true}, 1), 403, "forbidden"},
		{"malformed JSON", pub, `{"event":`, 400, "malformed_request"},
		{"trailing data", pub, `{"event":"a:b","tenantId":"t1","target":{"userId":"u1"},"data":1} {}`, 400, "malformed_request"},
		{"unknown field", pub, with("targte", 1), 400, "malformed_request"},
		{"unknown target kind", pub, with("target", map[string]any{"group": "g"}), 400, "malformed_request"},
		{"two target kinds", pub, with("target", map[string]any{"userId": "u1", "channel": "c"}), 400, "invalid_request"},
		{"empty target", pub, with("target", map[string]any{}), 400, "invalid_request"},
		{"event name with newline", pub, with("event", "a\nb"), 400, "invalid_request"},
		{"event name with space", pub, with("event", "a b"), 400, "invalid_request"},
		{"event name too long", pub, with("event", strings.Repeat("a", 65)), 400, "invalid_request"},
		{"reserved event name", pub, with("event", "sse:ready"), 400, "invalid_request"},
		{"channel with CR", pub, with("target", map[string]any{"channel": "a\rb"}), 400, "invalid_request"},
		{"missing data", pub, map[string]any{"event": "a:b", "tenantId": "t1", "target": map[string]any{"userId": "u1"}}, 400, "invalid_request"},
		{"payload over 64 KiB", pub, with("data", strings.Repeat("x", 70<<10)), 413, "payload_too_large"},
		{"10 MB body", pub, `{"event":"a:b","data":"` + strings.Repeat("x", 10<<20) + `"}`, 413, "payload_too_large"},
		{"catalog rejects", pub, with("event", "catalog:strict"), 422, "unprocessable_event"},
		{"empty batch", pub, `[]`, 400, "invalid_request"},
		{"batch with one bad event", pub, []any{good(), with("event", "bad name")}, 400, "invalid_request"},
		{"wrong method", pub, nil, 405, "method_not_allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := "POST"
			if tc.status == 405 {
				method = "GET"
			}
			r := e.do(method, "/api/events", tc.tok, tc.body)
			if r.Status != tc.status || r.code() != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.Raw, tc.status, tc.code)
			}
			if msg, _ := r.Body["error"].(map[string]any)["message"].(string); msg == "" {
				t.Fatalf("no error message in %s", r.Raw)
			}
		})
	}
	// Nothing was published or delivered.
	if s := e.hub.Stats(); s.EventsPublished != 0 {
		t.Fatalf("published after rejected requests: %d, want 0", s.EventsPublished)
	}
	if got := watcher.drain(200 * time.Millisecond); len(got) != 0 {
		t.Fatalf("watcher received %v after rejected requests", got)
	}
	// The stream of the other tenant was not broken either: a good publish still arrives.
	id := e.mustPublish(pub, good())
	if got := watcher.next(2 * time.Second); got.ID != id {
		t.Fatalf("after the bad requests: got %v, want %s", got, id)
	}
}

func TestPublishBatch(t *testing.T) {
	e := newEnv(t, hub.Config{Heartbeat: time.Hour})
	c := e.open(userToken(t, "t1", "u1"), "")
	r := e.publish(publisherToken(t, "t1"), []any{
		ev("a:one", "", map[string]any{"userId": "u1"}, 1), // tenant taken from the bound token
		ev("a:two", "t1", map[string]any{"tenantId": "t1"}, 2),
	})
	if r.Status != 202 {
		t.Fatalf("batch: got %d %s", r.Status, r.Raw)
	}
	ids := r.Body["ids"].([]any)
	for i, want := range []string{"a:one", "a:two"} {
		got := c.next(2 * time.Second)
		if got.Name != want || got.ID != ids[i] {
			t.Fatalf("event %d: got %s %s, want %s %s", i, got.Name, got.ID, want, ids[i])
		}
	}
}
