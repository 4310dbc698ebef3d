// Package broker defines how ssehub nodes share events: the [Broker]
// contract, the message and target types that travel through it, and
// [Memory], the single-node in-process implementation used by default.
//
// A broker is an ordered log. [Broker.Publish] appends messages and assigns
// each an id; [Broker.Subscribe] delivers every appended message to the
// node, in log order, exactly once; [Broker.Replay] reads back what is still
// retained after a given id so that a reconnecting client can resume. Ids
// carry the log's epoch, so an id issued by a log that no longer exists (a
// restarted in-memory node, a flushed Redis) is recognised and refused with
// [ErrUnknownEpoch] rather than misread.
//
// Implementations for several nodes live in sub-packages (redisbroker,
// natsbroker); brokertest holds the conformance suite every implementation
// passes.
//
// # Example
//
//	b := broker.NewMemory(broker.MemoryConfig{})
//	defer b.Close()
//	ids, err := b.Publish(ctx, broker.Message{
//		Event: "chat:message", TenantID: "t1", Data: []byte(`{"text":"hi"}`),
//		Target: broker.Target{Kind: broker.ToChannel, Channel: "conversation:1"},
//	})
package broker
