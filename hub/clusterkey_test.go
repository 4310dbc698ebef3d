package hub_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/broker/natsbroker"
	"github.com/ssehub/ssehub/broker/redisbroker"
	"github.com/ssehub/ssehub/hub"
)

// engines opens brokers on the real Redis and NATS, sharing one fresh
// prefix or stream per engine: a cluster's nodes, and a forger.
func engines(t *testing.T) map[string]func() broker.Broker {
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := "forgetest" + hex.EncodeToString(suffix)
	open := func(b broker.Broker, err error) broker.Broker {
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("engine: %v", err)
			}
			t.Skipf("ENGINE NOT REACHABLE: %v", err)
		}
		t.Cleanup(func() { _ = b.Close() })
		return b
	}
	redisURL := os.Getenv("SSEHUB_TEST_REDIS_URL")
	if redisURL == "" {
		redisURL = "redis://127.0.0.1:6379/0"
	}
	natsURL := os.Getenv("SSEHUB_TEST_NATS_URL")
	if natsURL == "" {
		natsURL = "nats://127.0.0.1:4222"
	}
	return map[string]func() broker.Broker{
		"redis": func() broker.Broker {
			return open(redisbroker.New(context.Background(), redisbroker.Config{URL: redisURL, Prefix: name}))
		},
		"nats": func() broker.Broker {
			return open(natsbroker.New(context.Background(), natsbroker.Config{URL: natsURL, Stream: name}))
		},
	}
}

// TestForgedBusMessagesAreRefused: with a cluster key, a control message
// sent straight to the engine by someone without the key (here a forged
// disable with a huge version) changes nothing on any node, while the
// nodes' own disable and enable still cross the bus; without a key the
// same forgery disables every node, which is what the key prevents.
func TestForgedBusMessagesAreRefused(t *testing.T) {
	for name, open := range engines(t) {
		for _, key := range []string{"", "cluster-key-cluster-key-cluster-key!"} {
			t.Run(name+"/key="+map[bool]string{true: "set", false: "none"}[key != ""], func(t *testing.T) {
				var hs []*hub.Hub
				for i := range 2 {
					h, err := hub.New(hub.Config{
						Broker: open(), NodeID: string(rune('a' + i)), PresenceInterval: 50 * time.Millisecond,
						ClusterKey: []byte(key),
						Logger:     slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError})),
					})
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { _ = h.Shutdown(context.Background()) })
					hs = append(hs, h)
				}
				forger := open().(broker.Bus)
				time.Sleep(200 * time.Millisecond)
				err := forger.Send(context.Background(), broker.Control{Kind: "disable", From: "evil", Body: []byte(`{"d":true,"v":9223372036854775000}`)})
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(300 * time.Millisecond)
				if key == "" {
					if !hs[0].Disabled() || !hs[1].Disabled() {
						t.Fatalf("without a key the forgery should disable every node (the test's control case): got %v %v", hs[0].Disabled(), hs[1].Disabled())
					}
					return
				}
				if hs[0].Disabled() || hs[1].Disabled() {
					t.Fatalf("forged disable applied: node a %v, node b %v", hs[0].Disabled(), hs[1].Disabled())
				}
				hs[0].SetDisabled(true)
				waitUntil(t, "node b to hear node a's signed disable", hs[1].Disabled)
				hs[0].SetDisabled(false)
				waitUntil(t, "node b to hear node a's signed enable", func() bool { return !hs[1].Disabled() })
			})
		}
	}
}
