package redisbroker

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/redis/go-redis/v9"
)

// go-redis reports some errors (failed dials, mostly) through a logger of
// its own, which is process-wide and writes to stderr unless replaced with
// redis.SetLogger. The first New replaces it with goRedisLog, which hands
// each line to the Logger of the newest Broker still open, at Warn; it
// drops the line when that Broker's Logger is nil ("nil means silent") or
// when no Broker is open. Being process-wide, it does not know which
// client a line is about: with several Brokers in one process, a line
// about one may appear in the Logger of another. A program that wants
// go-redis's lines elsewhere calls redis.SetLogger after its first New.

var goRedisLog struct {
	install sync.Once
	mu      sync.Mutex
	open    []*Broker // oldest first
}

// goRedisLogger is the redis.SetLogger adapter.
type goRedisLogger struct{}

func (goRedisLogger) Printf(ctx context.Context, format string, v ...any) {
	goRedisLog.mu.Lock()
	var log *slog.Logger
	if n := len(goRedisLog.open); n > 0 {
		log = goRedisLog.open[n-1].redisLog
	}
	goRedisLog.mu.Unlock()
	if log == nil {
		return
	}
	if ctx == nil {
		ctx = context.Background()
	}
	log.WarnContext(ctx, fmt.Sprintf(format, v...), "source", "go-redis")
}

// openGoRedisLog makes b the Broker that go-redis's lines go to, installing
// the adapter on first use.
func openGoRedisLog(b *Broker) {
	goRedisLog.install.Do(func() { redis.SetLogger(goRedisLogger{}) })
	goRedisLog.mu.Lock()
	goRedisLog.open = append(goRedisLog.open, b)
	goRedisLog.mu.Unlock()
}

// closeGoRedisLog hands go-redis's lines back to the Broker opened before b
// that is still open, if any.
func closeGoRedisLog(b *Broker) {
	goRedisLog.mu.Lock()
	goRedisLog.open = slices.DeleteFunc(goRedisLog.open, func(o *Broker) bool { return o == b })
	goRedisLog.mu.Unlock()
}
