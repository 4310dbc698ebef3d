package auth

import "net/http"

// Authenticator turns a request into an [Identity]. [JWT] is the built-in
// one; embedders plug in their own, for example one that reads a session
// cookie (see [AuthenticatorFunc]).
//
// Authenticate returns an error that wraps [ErrNoCredentials] when the
// request carries no credentials, and [ErrInvalidToken] when they are not
// acceptable. Implementations must be safe for concurrent use.
type Authenticator interface {
	Authenticate(r *http.Request) (Identity, error)
}

// AuthenticatorFunc adapts a function to the [Authenticator] interface.
type AuthenticatorFunc func(r *http.Request) (Identity, error)

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) (Identity, error) {
	return f(r)
}
