package redisbroker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ssehub/ssehub/broker/brokertest"
)

// TestReconnect drops the subscriber's connections mid-stream, also with
// CLIENT KILL, and checks that it resumes with no gap and no duplicate.
func TestReconnect(t *testing.T) {
	url := redisURL(t)
	brokertest.RunReconnect(t, engine(t), brokertest.Fault{
		Name: "ClientKill",
		Do:   func(t *testing.T, _ *brokertest.Proxy, nodeID string) { killClients(t, url, "ssehub:"+nodeID) },
	})
}

// killClients kills the connections named name with CLIENT KILL ID, and
// only those, as other tests share the server.
func killClients(t *testing.T, url, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := adminClient(t, url)
	list, err := c.ClientList(ctx).Result()
	if err != nil {
		t.Fatalf("CLIENT LIST: %v", err)
	}
	killed := 0
	for line := range strings.Lines(list) {
		var id, cname string
		for f := range strings.FieldsSeq(line) {
			if v, ok := strings.CutPrefix(f, "id="); ok {
				id = v
			}
			if v, ok := strings.CutPrefix(f, "name="); ok {
				cname = v
			}
		}
		if cname == name {
			if err := c.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err != nil {
				t.Fatalf("CLIENT KILL ID %s: %v", id, err)
			}
			killed++
		}
	}
	if killed == 0 {
		t.Fatalf("no connection named %q to kill", name)
	}
}

// TestUnavailable checks that Publish, Send and Ping fail fast while Redis
// cannot be reached, and work again once it can.
func TestUnavailable(t *testing.T) { brokertest.RunUnavailable(t, engine(t)) }

// TestNewEpoch deletes the log, as a flush or a restart without
// persistence would, and checks that nodes move to a new epoch.
func TestNewEpoch(t *testing.T) { brokertest.RunNewEpoch(t, engine(t)) }

func TestHistoryAge(t *testing.T)  { brokertest.RunHistoryAge(t, engine(t)) }
func TestHistoryNone(t *testing.T) { brokertest.RunHistoryNone(t, engine(t)) }

// TestCloseStopsGoroutines checks that Close ends every goroutine the
// broker started, with subscriptions and listeners still running.
func TestCloseStopsGoroutines(t *testing.T) { brokertest.RunCloseStopsGoroutines(t, engine(t)) }
