// Package auth decides who is calling ssehub and what they may subscribe to.
//
// An [Authenticator] turns an HTTP request into an [Identity]: the user, the
// tenant, the channel patterns the user may subscribe to and the roles
// ([RolePublisher], [RoleAdmin]). [JWT] is the built-in authenticator; it reads
// a JSON Web Token from the "Authorization: Bearer" header, the
// "access_token" query parameter (browsers' EventSource cannot set headers) or
// the "ssehub_token" cookie, and verifies it with an HS256 secret, RSA and
// ECDSA P-256 public keys, a JWK Set fetched over HTTP, or any mix of them
// (see [JWTConfig]). Embedders with their own sessions plug in an
// [AuthenticatorFunc] instead. [Mint] makes HS256 tokens for `ssehub token`,
// the dev mode and tests.
//
// An [Authorizer] decides whether an identity may subscribe to a channel.
// [PatternAuthorizer] allows the channels that match the identity's
// "channels" claim, and none when there is no such claim.
//
// Errors wrap [ErrNoCredentials] and [ErrInvalidToken] (HTTP 401; an expired
// token also wraps [ErrTokenExpired]) or [ErrForbidden] (403). Their messages
// never contain the token.
//
// Handlers store the identity in the request context with [WithIdentity]
// and read it back with [FromContext].
//
// # Security
//
// A [JWT] accepts only the algorithms of the keys it was given: HS256 for
// the secret, RS256 for RSA keys of at least 2048 bits, ES256 for P-256 keys.
// "alg": "none", HMAC tokens keyed with a public key and every other
// algorithm are refused. The secret must be at least [MinSecretLen] bytes.
// "sub" is required; "exp" is optional unless [JWTConfig.RequireExpiry] is
// set. Tenancy fails closed: a tenant claim that is present must be a
// non-empty string; a token without it is refused unless it carries
// "global": true ([GlobalClaim]; an identity with no tenant, which may not
// open a stream) or [JWTConfig.DefaultTenant] is set. Roles apply to the
// token's tenant only, unless the token is global ([Identity.Global]).
//
// # Concurrency
//
// [JWT], [PatternAuthorizer] and the Func adapters are safe for concurrent
// use. A [JWT] with a JWK Set owns a goroutine that refreshes the set; [JWT.Close]
// stops it and waits for it.
//
// # Example
//
//	a, err := auth.NewJWT(auth.JWTConfig{Secret: secret})
//	if err != nil {
//		return err
//	}
//	defer a.Close()
//
//	id, err := a.Authenticate(r)
//	switch {
//	case errors.Is(err, auth.ErrNoCredentials), errors.Is(err, auth.ErrInvalidToken):
//		// 401
//	case err != nil:
//		// 500
//	}
//	if err := auth.PatternAuthorizer.AuthorizeChannel(ctx, id, "conversation:123"); err != nil {
//		// 403
//	}
package auth
