package auth

import (
	"context"
	"fmt"
	"strings"
)

// Authorizer decides whether an identity may subscribe to a channel of its
// tenant. AuthorizeChannel returns nil to allow, and an error wrapping
// [ErrForbidden] to refuse. Implementations must be safe for concurrent use.
type Authorizer interface {
	AuthorizeChannel(ctx context.Context, id Identity, channel string) error
}

// AuthorizerFunc adapts a function to the [Authorizer] interface.
type AuthorizerFunc func(ctx context.Context, id Identity, channel string) error

// AuthorizeChannel calls f(ctx, id, channel).
func (f AuthorizerFunc) AuthorizeChannel(ctx context.Context, id Identity, channel string) error {
	return f(ctx, id, channel)
}

// PatternAuthorizer allows a channel when it matches one of the identity's
// [Identity.Channels] patterns. A pattern is
//
//   - an exact channel name: "conversation:123";
//   - a prefix followed by a trailing "*", matching the prefix followed by
//     anything, including nothing: "conversation:*";
//   - "*" alone, matching every channel.
//
// A "*" anywhere else is an ordinary character, and an empty pattern matches
// nothing. Patterns apply within the identity's tenant: "*" means every
// channel of that tenant, never another tenant's.
//
// It is secure by default: an identity without a "channels" claim may
// subscribe to no channel at all, and the admin role grants none by itself
// (give admins "channels": ["*"] if they need them). Events addressed to a
// user or to a whole tenant reach the connection without any channel.
var PatternAuthorizer Authorizer = AuthorizerFunc(authorizeByPattern)

func authorizeByPattern(_ context.Context, id Identity, channel string) error {
	for _, p := range id.Channels {
		if matchChannel(p, channel) {
			return nil
		}
	}
	return fmt.Errorf("%w: channel %q not permitted", ErrForbidden, channel)
}

// matchChannel reports whether channel matches pattern; see PatternAuthorizer.
func matchChannel(pattern, channel string) bool {
	if channel == "" || pattern == "" {
		return false
	}
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(channel, prefix)
	}
	return pattern == channel
}
