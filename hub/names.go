package hub

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ssehub/ssehub/event"
)

// Errors for names and ids that could break the wire format or the
// tenant scoping. They are wrapped with the offending value.
var (
	ErrInvalidEventName = event.ErrInvalidName
	ErrReservedEvent    = event.ErrReserved
	ErrInvalidChannel   = errors.New("hub: invalid channel name")
	ErrInvalidTenant    = errors.New("hub: invalid tenant id")
	ErrInvalidUser      = errors.New("hub: invalid user id")
)

// The limits of names, in bytes.
const (
	MaxEventNameLen = event.MaxNameLen
	MaxChannelLen   = 128
	MaxTenantLen    = 128
	MaxUserLen      = 256
)

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func validChars(s string, max int, extra string) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && strings.IndexByte(extra, c) < 0 {
			return false
		}
	}
	return true
}

// ValidateEventName accepts letters, digits and . _ : - up to 64 bytes, and
// refuses the reserved sse: prefix in any case: see event.ValidateName.
func ValidateEventName(name string) error { return event.ValidateName(name) }

// ValidateChannel accepts letters, digits and . _ : - @ / up to 128 bytes.
func ValidateChannel(ch string) error {
	if !validChars(ch, MaxChannelLen, "._:-@/") {
		return fmt.Errorf("%w: %q (letters, digits and . _ : - @ /, 1 to %d characters)", ErrInvalidChannel, clip(ch), MaxChannelLen)
	}
	return nil
}

func validTenant(t string) bool { return validChars(t, MaxTenantLen, "._:-@") }

// ValidateTenant accepts letters, digits and . _ : - @ up to 128 bytes.
func ValidateTenant(t string) error {
	if !validTenant(t) {
		return fmt.Errorf("%w: %q (letters, digits and . _ : - @, 1 to %d characters)", ErrInvalidTenant, clip(t), MaxTenantLen)
	}
	return nil
}

// ValidateUser accepts any printable ASCII but space, up to 256 bytes (JWT
// subjects such as "auth0|123" or e-mail addresses).
func ValidateUser(u string) error {
	ok := u != "" && len(u) <= MaxUserLen
	for i := 0; ok && i < len(u); i++ {
		ok = u[i] > ' ' && u[i] < 0x7f
	}
	if !ok {
		return fmt.Errorf("%w: %q (printable ASCII without spaces, 1 to %d characters)", ErrInvalidUser, clip(u), MaxUserLen)
	}
	return nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
