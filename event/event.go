// Package event is ssehub's event model that publishers and subscribers
// share: an event name bound to its payload type, and the rules for
// names. It imports nothing of ssehub, so a client that declares its
// events does not pull in the hub or the brokers (`go list -deps
// ./client` lists neither).
//
// The root package re-exports it: ssehub.Event[T] is event.Event[T] and
// ssehub.Define calls Define.
package event

import (
	"errors"
	"fmt"
	"strings"
)

// Event is an event name bound to its payload type T. Declare events once,
// as package variables, with Define.
type Event[T any] struct{ name string }

// Define declares an event. It panics when name is not a valid event name
// (see ValidateName), since that is a programming error.
func Define[T any](name string) Event[T] {
	if err := ValidateName(name); err != nil {
		panic("ssehub: Define: " + err.Error())
	}
	return Event[T]{name: name}
}

// Name returns the event name written to the stream; "" for an Event not
// made by Define.
func (e Event[T]) Name() string { return e.name }

// Errors of ValidateName, wrapped with the offending name.
var (
	ErrInvalidName = errors.New("invalid event name")
	ErrReserved    = errors.New("event names starting with sse: are reserved")
)

// MaxNameLen is the longest event name, in bytes.
const MaxNameLen = 64

// ReservedPrefix starts the names of the server's own control events
// (sse:ready, sse:reset, …). Publishers cannot use it, in any case:
// "SSE:ready" is refused too.
const ReservedPrefix = "sse:"

// ValidateName accepts ASCII letters, digits and . _ : - from 1 to 64
// bytes, and refuses names that start with sse: in any letter case.
func ValidateName(name string) error {
	if !validChars(name, MaxNameLen, "._:-") {
		return fmt.Errorf("%w: %q (letters, digits and . _ : -, 1 to %d characters)", ErrInvalidName, clip(name), MaxNameLen)
	}
	if len(name) >= len(ReservedPrefix) && strings.EqualFold(name[:len(ReservedPrefix)], ReservedPrefix) {
		return fmt.Errorf("%w: %q", ErrReserved, name)
	}
	return nil
}

func validChars(s string, max int, extra string) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') && strings.IndexByte(extra, c) < 0 {
			return false
		}
	}
	return true
}

// clip shortens a name quoted in an error.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
