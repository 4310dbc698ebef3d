package auth

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are the contents of a token made by [Mint].
type Claims struct {
	// Subject is the user id ("sub"). It is required.
	Subject string
	// TenantID is the tenant. Empty means the claim is left out, which
	// [JWT.Authenticate] accepts only for global tokens or with a
	// [JWTConfig.DefaultTenant].
	TenantID string
	// Global sets "global": true ([GlobalClaim]): the roles apply to every
	// tenant. False leaves the claim out.
	Global bool
	// Channels are the channel patterns the user may subscribe to; see
	// [PatternAuthorizer]. Empty means the claim is left out.
	Channels []string
	// Roles are the roles, such as [RolePublisher]. Empty means the claim is
	// left out.
	Roles []string
	// TenantClaim names the tenant claim. Empty means "tid".
	TenantClaim string
	// Issuer and Audience set "iss" and "aud" when not empty.
	Issuer, Audience string
}

// Mint returns an HS256 token for c signed with secret, which must be at
// least [MinSecretLen] bytes. The token expires after ttl; a ttl of zero or
// less means it carries no "exp" and never expires. Mint is used by
// `ssehub token`, the dev mode and tests.
func Mint(secret []byte, c Claims, ttl time.Duration) (string, error) {
	if len(secret) < MinSecretLen {
		return "", fmt.Errorf("auth: secret is %d bytes, want at least %d", len(secret), MinSecretLen)
	}
	if c.Subject == "" {
		return "", errors.New("auth: empty subject")
	}
	tenantClaim := cmp.Or(c.TenantClaim, defaultTenantClaim)
	if slices.Contains(reservedClaims, tenantClaim) {
		return "", fmt.Errorf("auth: TenantClaim %q is a reserved claim", tenantClaim)
	}
	now := time.Now()
	mc := jwt.MapClaims{
		"sub": c.Subject,
		"iat": jwt.NewNumericDate(now),
	}
	if ttl > 0 {
		mc["exp"] = jwt.NewNumericDate(now.Add(ttl))
	}
	if c.TenantID != "" {
		mc[tenantClaim] = c.TenantID
	}
	if c.Global {
		mc[GlobalClaim] = true
	}
	if len(c.Channels) > 0 {
		mc["channels"] = c.Channels
	}
	if len(c.Roles) > 0 {
		mc["roles"] = c.Roles
	}
	if c.Issuer != "" {
		mc["iss"] = c.Issuer
	}
	if c.Audience != "" {
		mc["aud"] = c.Audience
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, mc).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return tok, nil
}
