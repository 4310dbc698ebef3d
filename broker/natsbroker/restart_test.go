package natsbroker_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/ssehub/ssehub/broker/brokertest"
	"github.com/ssehub/ssehub/broker/natsbroker"
)

// TestRestart crashes and restarts a nats-server of its own under a
// subscribed node: with file storage the stream and its epoch survive and
// delivery resumes with no gap or repeat; with memory storage a new epoch
// starts.
func TestRestart(t *testing.T) {
	brokertest.RunRestart(t, brokertest.Restart{
		Name: "NATS", Durable: "FileStorage", Volatile: "MemoryStorage",
		// The client notices a dead server once its connection drops.
		AwaitDown: true,
		Start: func(t *testing.T, fileStorage bool) (*brokertest.Server, brokertest.Node) {
			srv := brokertest.StartServer(t, "nats-server", func(port int, dir string) []string {
				return []string{"-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", dir}
			})
			return srv, brokertest.Open(t, func(ctx context.Context) (brokertest.Node, error) {
				return natsbroker.New(ctx, natsbroker.Config{
					URL: "nats://" + srv.Addr(), MemoryStorage: !fileStorage, Timeout: time.Second, Logger: brokertest.Logger(t),
				})
			})
		},
	})
}
