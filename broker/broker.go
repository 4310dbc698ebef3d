package broker

import (
	"context"
	"encoding/json"
)

// Broker is the log that the nodes of a cluster share. Implementations are
// safe for concurrent use.
type Broker interface {
	// Publish appends msgs to the log, in order and as one unit where the
	// engine allows, and returns their ids. When Publish returns nil, every
	// message is in the log: it will be delivered by Subscribe and can be
	// replayed until history trims it.
	//
	// A message with an IdempotencyKey already claimed in its tenant
	// within the broker's idempotency window is not appended again: its
	// id is the one the first got. The claim is part of the append, so a
	// Publish that failed after the engine had the request, retried on
	// any node, never stores a second copy.
	Publish(ctx context.Context, msgs ...Message) ([]string, error)

	// Subscribe calls deliver with every message appended after Subscribe
	// was called, from any node, in log order, each exactly once, on one
	// goroutine that the broker owns. deliver must not block for long and
	// must not call Publish. Subscribe returns once the subscription is in
	// place; delivery stops when ctx is done or the broker is closed, and
	// the returned channel is closed after the last call to deliver.
	Subscribe(ctx context.Context, deliver func(Envelope)) (<-chan struct{}, error)

	// Replay calls fn, in log order, for every retained message appended
	// after the one with id after, up to the end of the log at the time of
	// the call. It fails with ErrUnknownEpoch or ErrTooOld when the log
	// cannot tell what came after that id; fn's error stops the replay and
	// is returned.
	Replay(ctx context.Context, after string, fn func(Envelope) error) error

	// Epoch identifies the current incarnation of the log.
	Epoch() string

	// Close stops delivery and releases the broker's resources. It is
	// idempotent.
	Close() error
}

// Header is implemented by brokers that can tell where the log ends now.
// LastID returns the id of the last message appended, or an id that means
// "before the first message" when the log is empty; Replay after it returns
// what is appended later.
type Header interface {
	LastID(ctx context.Context) (string, error)
}

// Pinger is implemented by brokers backed by an engine that can be
// unreachable. Ping returns nil while the engine answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Control is a message between nodes that is not part of the event log:
// "evict this connection", "change its channels", "report your stats",
// "disable streaming". Kind says what it is; Body is kind-specific JSON.
type Control struct {
	Kind string `json:"k"`
	// From is the id of the node that sent it.
	From string `json:"f"`
	// To is the id of the node meant to act on it; empty means every node.
	To string `json:"t,omitempty"`
	// Body is JSON, carried as is (not base64) when the broker encodes
	// the message as JSON.
	Body json.RawMessage `json:"b,omitempty"`
}

// Bus is implemented by brokers that connect several nodes. Send delivers
// c to every node's Listen callback, the sender's included, at most once
// and without history: a node that is down misses it.
type Bus interface {
	Send(ctx context.Context, c Control) error
	// Listen calls fn for each control message until ctx is done or the
	// broker closes; the returned channel is closed after the last call.
	Listen(ctx context.Context, fn func(Control)) (<-chan struct{}, error)
}
