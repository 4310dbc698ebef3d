package hub_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/hub"
)

func newHub(t *testing.T, cfg hub.Config) *hub.Hub {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	h, err := hub.New(cfg)
	if err != nil {
		t.Fatalf("hub.New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return h
}

// serve connects and serves a connection into a recorder until the hub or
// the returned cancel ends it.
func serve(t *testing.T, h *hub.Hub, info hub.ConnInfo) (*hub.Conn, *recorder, func() string) {
	t.Helper()
	c, err := h.Connect(info)
	if err != nil {
		t.Fatalf("Connect(%+v): %v", info, err)
	}
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	reason := make(chan string, 1)
	go func() { reason <- c.Serve(ctx, rec) }()
	var once sync.Once
	var r string
	stop := func() string {
		once.Do(func() { cancel(); r = <-reason })
		return r
	}
	t.Cleanup(func() { stop() })
	return c, rec, stop
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  hub.Config
		want string
	}{
		{"negative heartbeat", hub.Config{Heartbeat: -1}, "Heartbeat"},
		{"negative queue", hub.Config{QueueSize: -1}, "QueueSize"},
		{"negative writers", hub.Config{Writers: -1}, "Writers"},
		{"bad node id", hub.Config{NodeID: "a b"}, "NodeID"},
		{"bad policy", hub.Config{UserLimitPolicy: 9}, "policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := hub.New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

func TestHeartbeatInFakeTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHub(t, hub.Config{}) // 30 s heartbeat by default
		_, rec, stop := serve(t, h, hub.ConnInfo{TenantID: "t1", UserID: "u1"})
		time.Sleep(95 * time.Second)
		synctest.Wait()
		beats := 0
		for _, ev := range rec.decoded(t) {
			if ev.Name == "" && ev.Comment == "heartbeat" {
				beats++
			}
		}
		if beats != 3 {
			t.Fatalf("after 95s: got %d heartbeats, want 3", beats)
		}
		stop()
	})
}

func TestSweepClosesInactiveConnections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Heartbeats rarer than the inactivity timeout: an idle stream has
		// no successful write for 5 minutes and the sweep closes it.
		h := newHub(t, hub.Config{Heartbeat: time.Hour})
		_, _, stop := serve(t, h, hub.ConnInfo{TenantID: "t1", UserID: "u1"})
		time.Sleep(4 * time.Minute)
		synctest.Wait()
		if n := h.Stats().TotalClients; n != 1 {
			t.Fatalf("after 4 min: got %d clients, want 1", n)
		}
		time.Sleep(2*time.Minute + time.Second) // the sweep at 6 min sees 6 min of silence
		synctest.Wait()
		if n := h.Stats().TotalClients; n != 0 {
			t.Fatalf("after 6 min: got %d clients, want 0", n)
		}
		if got := stop(); got != hub.ReasonInactive {
			t.Fatalf("reason: got %q, want %q", got, hub.ReasonInactive)
		}
	})
}

func TestTokenExpiryClosesWithControlEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHub(t, hub.Config{})
		_, rec, stop := serve(t, h, hub.ConnInfo{TenantID: "t1", UserID: "u1", ExpiresAt: time.Now().Add(10 * time.Second)})
		time.Sleep(11 * time.Second)
		synctest.Wait()
		if got := stop(); got != hub.ReasonTokenExpired {
			t.Fatalf("reason: got %q, want %q", got, hub.ReasonTokenExpired)
		}
		evs := rec.decoded(t)
		if last := evs[len(evs)-1]; last.Name != "sse:token-expired" {
			t.Fatalf("last event: got %q, want sse:token-expired", last.Name)
		}
	})
}

func TestShutdownDrainsAndSendsShutdown(t *testing.T) {
	h, err := hub.New(hub.Config{})
	if err != nil {
		t.Fatal(err)
	}
	_, rec, stop := serve(t, h, hub.ConnInfo{TenantID: "t1", UserID: "u1"})
	var ids []string
	for i := range 50 {
		got, err := h.Publish(context.Background(), broker.Message{Event: "e", TenantID: "t1", Data: fmt.Appendf(nil, "%d", i), Target: broker.Target{Kind: broker.ToTenant}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if got := stop(); got != hub.ReasonShutdown {
		t.Fatalf("reason: got %q, want shutdown", got)
	}
	if got := rec.ids(t); !slices.Equal(got, ids) {
		t.Fatalf("delivered before shutdown: got %d ids, want all %d", len(got), len(ids))
	}
	evs := rec.decoded(t)
	if last := evs[len(evs)-1]; last.Name != "sse:shutdown" {
		t.Fatalf("last event: got %q, want sse:shutdown", last.Name)
	}
	if _, err := h.Publish(ctx, broker.Message{Event: "e", TenantID: "t1", Data: []byte("1"), Target: broker.Target{Kind: broker.ToTenant}}); !errors.Is(err, hub.ErrClosed) {
		t.Fatalf("Publish after Shutdown: got %v, want ErrClosed", err)
	}
	if _, err := h.Connect(hub.ConnInfo{TenantID: "t1", UserID: "u1"}); !errors.Is(err, hub.ErrClosed) {
		t.Fatalf("Connect after Shutdown: got %v, want ErrClosed", err)
	}
}

// TestRandomizedIsolation checks fan-out against a reference model: random
// tenants, users, channels, targets and exclusions over thousands of
// connections; every connection must receive exactly the events the model
// says, in publish order.
func TestRandomizedIsolation(t *testing.T) {
	const conns, publishes = 2000, 600
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	h := newHub(t, hub.Config{MaxConns: -1, MaxConnsPerUser: -1, Heartbeat: time.Hour, QueueSize: publishes + 10})
	type model struct {
		id           string
		tenant, user string
		channels     map[string]bool
		rec          *recorder
		want         []string
	}
	pick := func(prefix string, n int) string { return fmt.Sprintf("%s%d", prefix, rng.IntN(n)) }
	ms := make([]*model, conns)
	for i := range ms {
		m := &model{tenant: pick("t", 4), user: pick("u", 30), channels: map[string]bool{}}
		var chans []string
		for range rng.IntN(4) {
			ch := pick("ch:", 8)
			if !m.channels[ch] {
				m.channels[ch] = true
				chans = append(chans, ch)
			}
		}
		c, rec, _ := serve(t, h, hub.ConnInfo{TenantID: m.tenant, UserID: m.user, Channels: chans})
		m.id, m.rec = string(c.ID()), rec
		ms[i] = m
	}
	total := 0
	for range publishes {
		msg := broker.Message{Event: "ev", TenantID: pick("t", 4), Data: []byte(`{}`)}
		var users []string
		switch rng.IntN(5) {
		case 0:
			msg.Target = broker.Target{Kind: broker.ToUser, UserIDs: []string{pick("u", 30)}}
		case 1:
			for range 1 + rng.IntN(4) {
				users = append(users, pick("u", 30))
			}
			msg.Target = broker.Target{Kind: broker.ToUsers, UserIDs: users}
		case 2:
			msg.Target = broker.Target{Kind: broker.ToTenant}
		case 3:
			msg.Target = broker.Target{Kind: broker.ToChannel, Channel: pick("ch:", 8)}
		case 4:
			if rng.IntN(10) == 0 {
				msg.Target = broker.Target{Kind: broker.ToBroadcast}
				msg.TenantID = ""
			} else {
				msg.Target = broker.Target{Kind: broker.ToTenant}
			}
		}
		if rng.IntN(4) == 0 {
			msg.ExcludeConn = ms[rng.IntN(conns)].id
		}
		target := msg.Target
		target.UserIDs = slices.Clone(target.UserIDs)
		ids, err := h.Publish(context.Background(), msg)
		if err != nil {
			t.Fatalf("Publish: %v", err)
		}
		for _, m := range ms {
			var ok bool
			switch target.Kind {
			case broker.ToBroadcast:
				ok = true
			case broker.ToTenant:
				ok = m.tenant == msg.TenantID
			case broker.ToUser, broker.ToUsers:
				ok = m.tenant == msg.TenantID && slices.Contains(target.UserIDs, m.user)
			case broker.ToChannel:
				ok = m.tenant == msg.TenantID && m.channels[target.Channel]
			}
			if ok && m.id != msg.ExcludeConn {
				m.want = append(m.want, ids[0])
				total++
			}
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, m := range ms {
		for m.rec.events.Load() < int64(len(m.want))+1 && time.Now().Before(deadline) { // +1: the id of sse:ready
			time.Sleep(time.Millisecond)
		}
	}
	time.Sleep(50 * time.Millisecond) // let any wrong extra delivery land
	wrong := 0
	for _, m := range ms {
		if got := m.rec.ids(t); !slices.Equal(got, m.want) {
			wrong++
			if wrong <= 3 {
				t.Errorf("conn %s (%s/%s %v): got %d events, want %d", m.id, m.tenant, m.user, m.channels, len(got), len(m.want))
			}
		}
	}
	if wrong > 0 {
		t.Fatalf("%d of %d connections got wrong deliveries", wrong, conns)
	}
	if s := h.Stats(); s.EventsDelivered != uint64(total) {
		t.Fatalf("delivered: got %d, want %d", s.EventsDelivered, total)
	}
	t.Logf("%d connections, %d publishes, %d deliveries, 0 wrong", conns, publishes, total)
}

func TestMaxConnAgeEndsWithShutdownHint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHub(t, hub.Config{MaxConnAge: time.Minute})
		_, rec, stop := serve(t, h, hub.ConnInfo{TenantID: "t1", UserID: "u1"})
		time.Sleep(61 * time.Second)
		synctest.Wait()
		if got := stop(); got != hub.ReasonMaxAge {
			t.Fatalf("reason: got %q, want %q", got, hub.ReasonMaxAge)
		}
		evs := rec.decoded(t)
		last := evs[len(evs)-1]
		if last.Name != "sse:shutdown" || !strings.Contains(last.Data, "max_age") {
			t.Fatalf("last event: got %q %s, want sse:shutdown with reason max_age", last.Name, last.Data)
		}
	})
}

// TestHeartbeatSilenceAtMostOneInterval: no stream stays silent longer than
// Heartbeat (plus the loop's eighth of it). One ticker per interval used
// to let a stream that wrote just after a tick wait almost two intervals:
// an event at 10 s got its next heartbeat at 60 s with the 30 s default,
// which cut streams behind proxies whose idle timeout was a little above
// --heartbeat (the Next.js rewrite, nginx at 40 s).
func TestHeartbeatSilenceAtMostOneInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHub(t, hub.Config{}) // 30 s heartbeat by default
		_, rec, stop := serve(t, h, hub.ConnInfo{TenantID: "t1", UserID: "u1"})
		time.Sleep(10 * time.Second)
		if _, err := h.Publish(context.Background(), broker.Message{Event: "e", TenantID: "t1", Data: []byte(`1`), Target: broker.Target{Kind: broker.ToUser, UserIDs: []string{"u1"}}}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		time.Sleep(30*time.Second + 10*time.Millisecond) // one interval after the event
		synctest.Wait()
		after, seen := 0, false
		for _, ev := range rec.decoded(t) {
			switch {
			case ev.Name == "e":
				seen = true
			case seen && ev.Comment == "heartbeat":
				after++
			}
		}
		if !seen || after != 1 {
			t.Fatalf("one interval after an event: event seen %v, %d heartbeats since, want 1", seen, after)
		}
		stop()
	})
}
