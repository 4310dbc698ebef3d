package redisbroker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/ssehub/ssehub/broker/brokertest"
	"github.com/ssehub/ssehub/broker/redisbroker"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testRedis is the Redis the tests share: SSEHUB_TEST_REDIS_URL, by
// default redis://127.0.0.1:6379/0.
var testRedis = brokertest.SharedServer{
	Name: "REDIS", Env: "SSEHUB_TEST_REDIS_URL", Default: "redis://127.0.0.1:6379/0",
	Need: "redisbroker tests need a real Redis",
	Ping: func(url string) error {
		opt, err := redis.ParseURL(url)
		if err != nil {
			return err
		}
		c := redis.NewClient(opt)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return c.Ping(ctx).Err()
	},
}

// redisURL returns the URL of the test Redis. When it does not answer, the
// test is skipped loudly, or fails when CI is set.
func redisURL(t testing.TB) string { return testRedis.URL(t) }

// engine returns the test Redis to the shared tests of brokertest: a log
// is a key prefix.
func engine(t testing.TB) brokertest.Engine {
	t.Helper()
	url := redisURL(t)
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return brokertest.Engine{
		Addr: opt.Addr,
		NewLog: func(t testing.TB) string {
			return uniquePrefix(t, url)
		},
		DeleteLog: func(t testing.TB, prefix string) {
			deleteLog(t, adminClient(t, url), prefix)
		},
		New: func(ctx context.Context, c brokertest.NodeConfig) (brokertest.Node, error) {
			u := url
			if c.Addr != "" {
				u = strings.Replace(url, opt.Addr, c.Addr, 1)
			}
			return redisbroker.New(ctx, redisbroker.Config{
				URL: u, Prefix: c.Log, NodeID: c.NodeID, HistorySize: c.HistorySize,
				HistoryAge: c.HistoryAge, Timeout: c.Timeout, Logger: c.Logger,
			})
		},
	}
}

func adminClient(t testing.TB, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("ParseURL: %v", err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// uniquePrefix returns a fresh prefix whose keys are deleted at cleanup.
func uniquePrefix(t testing.TB, url string) string {
	t.Helper()
	var r [6]byte
	_, _ = rand.Read(r[:])
	prefix := "ssehubtest-" + hex.EncodeToString(r[:])
	c := adminClient(t, url)
	t.Cleanup(func() { deleteLog(t, c, prefix) })
	return prefix
}

// deleteLog deletes every key of a prefix: for Redis, the log is gone.
func deleteLog(t testing.TB, c *redis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, "{"+prefix+"}:*", 100).Iterator()
	for iter.Next(ctx) {
		if err := c.Del(ctx, iter.Val()).Err(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
	if err := iter.Err(); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}
