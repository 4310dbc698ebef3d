package auth

import "errors"

// Errors returned by authenticators and authorizers. Callers test them with
// [errors.Is]; the returned errors wrap them with details that never include
// the token itself.
var (
	// ErrNoCredentials means the request carried no token at all. An HTTP
	// handler answers 401 with the code "unauthorized".
	ErrNoCredentials = errors.New("auth: no credentials")
	// ErrInvalidToken means a token was present but is not acceptable:
	// malformed, wrongly signed, expired, or with missing or ill-typed
	// claims. An HTTP handler answers 401.
	ErrInvalidToken = errors.New("auth: invalid token")
	// ErrTokenExpired is wrapped, together with ErrInvalidToken, by the error
	// for a token whose "exp" has passed, so a client knows to refresh it.
	ErrTokenExpired = errors.New("auth: token expired")
	// ErrForbidden means the identity is known but not allowed: a channel it
	// may not subscribe to, a missing role or another tenant. An HTTP handler
	// answers 403.
	ErrForbidden = errors.New("auth: forbidden")
)

// tokenError is an invalid-token error that wraps several sentinels while
// keeping a readable message.
type tokenError struct {
	msg  string
	errs []error
}

func (e *tokenError) Error() string   { return e.msg }
func (e *tokenError) Unwrap() []error { return e.errs }

// errExpired is returned for a token whose "exp" has passed.
var errExpired error = &tokenError{
	msg:  ErrInvalidToken.Error() + ": token expired",
	errs: []error{ErrInvalidToken, ErrTokenExpired},
}
