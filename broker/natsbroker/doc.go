// Package natsbroker is a [broker.Broker] for several ssehub nodes that
// share one NATS JetStream (nats-server 2.9 or later). It also implements
// [broker.Bus] for control messages between nodes and [broker.Pinger] for
// readiness checks.
//
// # The log
//
// Nodes that use the same Config.Stream share one log: a JetStream stream
// of that name with limits retention, whose only subject is
// "<Stream>.log.<epoch>". Seq is the stream sequence, and Envelope.Time the
// time the server stored the message.
//
// The epoch names the stream's incarnation. The node that creates the
// stream draws a random epoch and puts it in the stream's subject, where
// every node reads it; so it survives server restarts (it is part of the
// stream's configuration) and a stream that is deleted and created again
// has a new one. Publishing to the subject of an old epoch finds no stream,
// which is how a node learns that the stream was replaced: Publish then
// reads the new epoch (or creates the stream again) and retries once. Ids
// of an old epoch fail with [broker.ErrUnknownEpoch], which ssehub turns
// into sse:reset for clients that resume with them. A stream of that name
// that was not created by this package is refused.
//
// # Delivery
//
// [Broker.Subscribe] uses an ordered consumer: an ephemeral pull consumer
// without acks that starts after the stream's last sequence at the time of
// the call. The subscription tracks the stream and consumer sequences of
// what it received; when a message goes missing in flight, heartbeats stop
// or the consumer disappears, it creates a new consumer that starts after
// the last message it delivered. [Broker.Replay] reads with a temporary
// consumer from the id's successor up to the stream's last sequence at the
// time of the call. Control messages ([Broker.Send], [Broker.Listen]) are
// core NATS messages on "<Stream>.bus".
//
// # History
//
// The stream's MaxAge is HistoryAge and its MaxMsgs is HistorySize, but at
// least 1,024 so that a lagging subscriber misses none; Replay enforces
// HistorySize exactly, and also treats a message older than HistoryAge that
// the server has not yet expired as gone. A stream that exists already
// keeps its limits: every node of a log must use the same HistorySize and
// HistoryAge, and changing them means updating the stream (nats stream
// edit).
//
// # Guarantees and faults
//
// Within an epoch every subscription delivers every message once, in the
// one stream order, with Seq strictly increasing. A batch from one Publish
// keeps its order but is not atomic: JetStream before 2.12 has no atomic
// batch, so messages of other nodes may fall between its messages, and a
// failed Publish may have stored part of the batch. With file storage (the
// default) the log survives NATS restarts, and so do epochs and ids; with
// MemoryStorage a restart loses the stream, and the next node to touch it
// creates a new epoch.
//
// The connection reconnects by itself. Publish and Send fail at once while
// it is down, and within Config.Timeout (2 s by default) when the server
// does not answer, with an error wrapping [broker.ErrUnavailable]; so do
// Replay and Ping. Subscriptions resume after a reconnection without gap or
// repeat, and on a new epoch log at Error and deliver the new stream from
// its start.
//
// A [Broker] is safe for concurrent use. [Broker.Close] stops every
// subscription and listener, waits for their goroutines and closes the
// connection; it does not delete the stream.
//
// # Example
//
//	b, err := natsbroker.New(ctx, natsbroker.Config{
//		URL: "nats://127.0.0.1:4222", Stream: "SSEHUB",
//		HistorySize: 10_000, HistoryAge: 5 * time.Minute, NodeID: "node-1",
//	})
//	if err != nil {
//		return err
//	}
//	defer b.Close()
//	stopped, err := b.Subscribe(ctx, func(env broker.Envelope) { hub.Deliver(env) })
package natsbroker
