package broker

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TargetKind says which connections a message is meant for.
type TargetKind uint8

// The target kinds. Every kind but ToBroadcast is confined to the message's
// tenant.
const (
	ToUser      TargetKind = iota + 1 // every connection of one user
	ToUsers                           // every connection of several users
	ToTenant                          // every connection of the tenant
	ToChannel                         // every connection subscribed to a channel
	ToBroadcast                       // every connection of every tenant
)

var kindNames = [...]string{"", "user", "users", "tenant", "channel", "broadcast"}

// String returns the kind's name as used in logs and metrics.
func (k TargetKind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return "unknown"
}

// Target names the recipients of a message.
type Target struct {
	Kind    TargetKind `json:"k"`
	UserIDs []string   `json:"u,omitempty"` // ToUser: exactly one; ToUsers: one or more
	Channel string     `json:"c,omitempty"` // ToChannel
}

// Key identifies the target within a tenant, for per-target rate limits.
func (t Target) Key() string {
	switch t.Kind {
	case ToUser, ToUsers:
		return t.Kind.String() + ":" + strings.Join(t.UserIDs, ",")
	case ToChannel:
		return "channel:" + t.Channel
	default:
		return t.Kind.String()
	}
}

// Message is an event as a publisher hands it over.
type Message struct {
	// Event is the event name written to the stream's event field.
	Event string `json:"e"`
	// TenantID scopes the message; empty only for broadcasts.
	TenantID string `json:"t,omitempty"`
	// Data is the JSON payload, written to clients byte for byte.
	Data []byte `json:"d"`
	// Target names the recipients.
	Target Target `json:"g"`
	// ExcludeConn, when set, is a connection id that must not receive the
	// message (no echo to the sender).
	ExcludeConn string `json:"x,omitempty"`
	// IdempotencyKey, when set, makes a repeated publish with the same key
	// (in the same tenant, within the broker's idempotency window) return
	// the first id instead of appending again. The broker claims the key
	// in the same atomic step as the append, so the guarantee holds across
	// nodes and across a Publish that failed after the engine had the
	// request (a timeout). It is not part of the delivered message.
	IdempotencyKey string `json:"-"`
}

// Envelope is a message with its place in the log.
type Envelope struct {
	Message
	// ID is the opaque id clients see and send back as Last-Event-ID.
	ID string
	// Seq orders envelopes: within one epoch it strictly increases in log
	// order.
	Seq uint64
	// Time is when the message was appended.
	Time time.Time
}

// Errors returned by brokers.
var (
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("broker: closed")
	// ErrUnknownEpoch means an id comes from another incarnation of the log
	// (or is not an id at all): nothing can be replayed after it.
	ErrUnknownEpoch = errors.New("broker: id from an unknown epoch")
	// ErrTooOld means the log no longer reaches back to the id: some events
	// after it were trimmed.
	ErrTooOld = errors.New("broker: history does not reach back to id")
	// ErrUnavailable means the engine behind the broker cannot be reached.
	ErrUnavailable = errors.New("broker: unavailable")
)

// DefaultIdempotencyWindow is how long the brokers remember an
// idempotency key unless configured otherwise.
const DefaultIdempotencyWindow = 10 * time.Minute

// KeyOf joins a tenant and an idempotency key into one unambiguous string
// (the tenant's length first), as the brokers store it.
func KeyOf(tenant, key string) string {
	return strconv.Itoa(len(tenant)) + ":" + tenant + ":" + key
}

// FormatID builds an id from an epoch and a sequence number. Ids are short
// ASCII: the epoch, a dash and the sequence in base 36.
func FormatID(epoch string, seq uint64) string {
	return epoch + "-" + strconv.FormatUint(seq, 36)
}

// ParseID splits an id made by FormatID. It fails with ErrUnknownEpoch when
// the id is not of that form or its epoch differs from epoch.
func ParseID(epoch, id string) (uint64, error) {
	e, s, ok := strings.Cut(id, "-")
	if !ok || e != epoch {
		return 0, fmt.Errorf("%w: %q", ErrUnknownEpoch, truncate(id))
	}
	seq, err := strconv.ParseUint(s, 36, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrUnknownEpoch, truncate(id))
	}
	return seq, nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
