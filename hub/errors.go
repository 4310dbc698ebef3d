package hub

import (
	"errors"
	"fmt"
	"time"
)

// Errors returned by the hub.
var (
	// ErrClosed is returned by every method after Shutdown.
	ErrClosed = errors.New("hub: closed")
	// ErrDisabled is returned by Connect while an admin has disabled
	// streaming.
	ErrDisabled = errors.New("hub: streaming disabled")
	// ErrLimit is wrapped by *LimitError.
	ErrLimit = errors.New("hub: connection limit reached")
	// ErrNotFound means no live connection has that id for that user.
	ErrNotFound = errors.New("hub: connection not found")
	// ErrInvalid is wrapped by every *ValidationError.
	ErrInvalid = errors.New("hub: invalid message")
	// ErrTooLarge means an event's data is over Config.MaxPayload.
	ErrTooLarge = errors.New("hub: payload too large")
	// ErrTooManyChannels means a connection would have more than
	// Config.MaxChannels channels; nothing was changed.
	ErrTooManyChannels = errors.New("hub: too many channels")
	// ErrSchema is wrapped by every *SchemaError.
	ErrSchema = errors.New("hub: refused by the schema")
	// ErrRateLimited means a drop-mode rate limit refused the event.
	ErrRateLimited = errors.New("hub: rate limited")
)

// LimitError is returned by Connect when a connection limit refuses a new
// connection.
type LimitError struct {
	// Scope is "user" or "total".
	Scope string
	// Limit is the limit that was reached.
	Limit int
	// RetryAfter is how long the client should wait before trying again.
	RetryAfter time.Duration
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("hub: %s connection limit of %d reached", e.Scope, e.Limit)
}

func (e *LimitError) Unwrap() error { return ErrLimit }

// ValidationError says which message of a batch is invalid and why.
type ValidationError struct {
	// Index is the message's position in the batch.
	Index int
	// Field names the offending field, in the publish API's JSON terms
	// ("event", "target.channel", "data", …).
	Field string
	// Err is the reason, often wrapping one of the name errors.
	Err error
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("message %d: %s: %v", e.Index, e.Field, e.Err)
}

// Unwrap returns both ErrInvalid and the reason, so errors.Is matches
// either.
func (e *ValidationError) Unwrap() []error { return []error{ErrInvalid, e.Err} }

// SchemaError is a message that Config.Schema refused; nothing of the
// batch was published.
type SchemaError struct {
	// Index is the message's position in the batch.
	Index int
	// Err is the schema's reason. It may say which field it is about with
	// a Field() string method (the catalog's errors do).
	Err error
}

func (e *SchemaError) Error() string { return e.Err.Error() }

// Unwrap returns both ErrSchema and the reason.
func (e *SchemaError) Unwrap() []error { return []error{ErrSchema, e.Err} }
