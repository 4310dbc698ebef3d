package redisbroker_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/ssehub/ssehub/broker/brokertest"
	"github.com/ssehub/ssehub/broker/redisbroker"
)

// TestRestart crashes and restarts a redis-server of its own under a
// subscribed node: with AOF persistence the log and its epoch survive and
// delivery resumes with no gap or repeat; without persistence a new epoch
// starts.
func TestRestart(t *testing.T) {
	brokertest.RunRestart(t, brokertest.Restart{
		Name: "Redis", Durable: "AOF", Volatile: "NoPersistence",
		Start: func(t *testing.T, persist bool) (*brokertest.Server, brokertest.Node) {
			srv := brokertest.StartServer(t, "redis-server", func(port int, dir string) []string {
				args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""}
				if persist {
					return append(args, "--appendonly", "yes", "--appendfsync", "always")
				}
				return append(args, "--appendonly", "no")
			})
			return srv, brokertest.Open(t, func(ctx context.Context) (brokertest.Node, error) {
				return redisbroker.New(ctx, redisbroker.Config{
					URL: "redis://" + srv.Addr() + "/0", Timeout: time.Second, Logger: brokertest.Logger(t),
				})
			})
		},
	})
}
