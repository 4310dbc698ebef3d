// Package redisbroker is a [broker.Broker] for several ssehub nodes that
// share one Redis (6.2 or later). It also implements [broker.Bus] for
// control messages between nodes and [broker.Pinger] for readiness checks.
//
// # The log
//
// Nodes that use the same Config.Prefix share one log, kept in two keys
// (the braces are a Redis Cluster hash tag, so both live in one slot):
//
//	{prefix}:meta         hash: epoch (random, set once with HSETNX), seq (last assigned)
//	{prefix}:log:<epoch>  stream: one entry per message, id "<seq>-0", fields t (ms) and m
//
// [Broker.Publish] runs one Lua script that increments seq, appends the
// whole batch with XADD under explicit ids, and trims, so a batch is atomic
// and contiguous and Seq is a plain counter: 1, 2, 3… Envelope.Time is the
// Redis server's clock (TIME), the same for every node.
//
// The epoch names the log's incarnation. If Redis loses the meta key (a
// FLUSHALL, a restart without persistence, an eviction), the next script to
// run creates a new random epoch whose log starts again at seq 1; ids of
// the old epoch then fail with [broker.ErrUnknownEpoch], which ssehub turns
// into sse:reset for clients that resume with them. Because the stream's
// key contains the epoch, a node that has not noticed yet can neither read
// nor append to the new log under the old epoch.
//
// # Delivery: XREAD, not Pub/Sub
//
// Each subscription reads the stream with XREAD BLOCK from the last seq it
// delivered. Pub/Sub, which the seed design suggested for fan-out, is at
// most once: a dropped connection loses whatever was published meanwhile,
// and a message would reach subscribers in Pub/Sub order, which need not
// be stream order. Reading the stream itself gives every node the same
// order, each message once, and exact resumption after a dropped connection
// or a Redis restart. The costs are one blocked connection per
// subscription and an idle poll: XREAD blocks for one second at a time, and
// between reads the subscription checks that the epoch has not changed.
// Control messages ([Broker.Send], [Broker.Listen]) do use Pub/Sub on
// "{prefix}:bus", as the Bus contract is at most once.
//
// # History
//
// Replay reaches back HistorySize messages and HistoryAge in time, both
// exactly. XADD trims with MAXLEN ~ (at least 1,024 entries are kept so a
// lagging subscriber misses none) and Replay enforces HistorySize; the
// scripts delete entries older than HistoryAge from the head of the stream
// on every Publish and Replay, and the stream key expires 10 minutes after
// its last write. Every node of a log must use the same HistorySize and
// HistoryAge.
//
// # Guarantees and faults
//
// Within an epoch every subscription delivers every message once, in the
// one log order, with Seq strictly increasing. Durability is Redis's:
// without persistence a Redis restart loses the history and starts a new
// epoch. A restart from an older snapshot (RDB, or an AOF with everysec
// that lost its last second) rolls the log back: every node remembers the
// highest seq it has seen, and the first script to find the counter below
// it starts a new epoch rather than give those seqs to other messages, so
// clients holding ids of the lost events get sse:reset instead of wrong
// events (logged at Error). Use AOF with appendfsync always and
// maxmemory-policy noeviction when resumption across Redis restarts
// matters.
//
// Every call to Redis is bounded by Config.Timeout (2 s by default), so
// Publish, Replay, Send and Ping fail fast with an error wrapping
// [broker.ErrUnavailable] while Redis is unreachable. Publish is never
// retried automatically, as a retry could append a batch twice: after such
// an error the batch may or may not be in the log. Subscriptions retry on
// their own with backoff (up to 2 s) and resume from their last seq, and
// listeners resubscribe; Ping reports the outage meanwhile.
//
// Redis Cluster and Sentinel are not supported: New takes one server's URL.
//
// A [Broker] is safe for concurrent use. [Broker.Close] stops every
// subscription and listener, waits for their goroutines and closes the
// connections; it does not delete the log.
//
// go-redis reports some connection errors (failed dials) through a logger
// of its own, which is process-wide and writes to stderr by default. The
// first New replaces it (redis.SetLogger) with an adapter that passes each
// line, at Warn, to the Config.Logger of the newest Broker still open in
// the process, and drops it when that Logger is nil or no Broker is open.
// As go-redis does not say which client a line is about, with several
// Brokers in one process a line may appear in another Broker's Logger. A
// program that wants those lines elsewhere calls redis.SetLogger after its
// first New.
//
// # Example
//
//	b, err := redisbroker.New(ctx, redisbroker.Config{
//		URL: "redis://127.0.0.1:6379/0", Prefix: "ssehub",
//		HistorySize: 10_000, HistoryAge: 5 * time.Minute, NodeID: "node-1",
//	})
//	if err != nil {
//		return err
//	}
//	defer b.Close()
//	stopped, err := b.Subscribe(ctx, func(env broker.Envelope) { hub.Deliver(env) })
package redisbroker
