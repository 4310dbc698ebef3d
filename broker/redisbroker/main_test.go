package redisbroker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/broker/redisbroker"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var (
	redisOnce sync.Once
	redisErr  error
)

// redisURL returns the URL of the test Redis (SSEHUB_TEST_REDIS_URL, by
// default redis://127.0.0.1:6379/0). When it does not answer, the test is
// skipped loudly, or fails when CI is set.
func redisURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("SSEHUB_TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	redisOnce.Do(func() {
		opt, err := redis.ParseURL(url)
		if err != nil {
			redisErr = err
			return
		}
		c := redis.NewClient(opt)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		redisErr = c.Ping(ctx).Err()
	})
	if err := redisErr; err != nil {
		msg := fmt.Sprintf("REDIS IS NOT REACHABLE AT %s (%v): redisbroker tests need a real Redis", url, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip("!!! SKIPPED: " + msg + "; with CI set this fails")
	}
	return url
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

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newNode returns a broker that is closed at cleanup.
func newNode(t testing.TB, cfg redisbroker.Config) *redisbroker.Broker {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := redisbroker.New(ctx, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func msg(i int) broker.Message {
	return broker.Message{
		Event: "test:event", TenantID: "t1",
		Data:   fmt.Appendf(nil, `{"i":%d}`, i),
		Target: broker.Target{Kind: broker.ToTenant},
	}
}

// addrOf returns host:port of a redis:// URL.
func addrOf(t testing.TB, url string) string {
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return opt.Addr
}

// viaProxy returns url with its address replaced by addr.
func viaProxy(url, from, to string) string { return strings.Replace(url, from, to, 1) }

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }
