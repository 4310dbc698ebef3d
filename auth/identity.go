package auth

import (
	"context"
	"slices"
	"time"
)

// Roles a token can carry in its "roles" claim.
const (
	// RolePublisher may publish events (POST /api/events), into its own
	// tenant when the identity has one.
	RolePublisher = "publisher"
	// RoleAdmin may do everything a publisher may, plus broadcast to every
	// tenant and use the admin endpoints.
	RoleAdmin = "admin"
)

// GlobalClaim names the JWT claim that gives a token power over every
// tenant: "global": true. Without it a token is bound to its tenant,
// whatever its roles.
const GlobalClaim = "global"

// Identity is who a request acts as.
//
// TenantID is empty only for global identities whose token named no tenant
// (see [JWTConfig.DefaultTenant]); callers that serve streams must refuse
// such an identity rather than treat "" as a tenant.
type Identity struct {
	// UserID is the JWT "sub" claim. It is never empty for an identity
	// returned by [JWT.Authenticate].
	UserID string
	// TenantID is the tenant claim ("tid" by default).
	TenantID string
	// Channels are the channel patterns the user may subscribe to (claim
	// "channels"); [PatternAuthorizer] explains their syntax.
	Channels []string
	// Roles are the roles from the "roles" claim, such as [RolePublisher]
	// and [RoleAdmin].
	Roles []string
	// ExpiresAt is the token's "exp". The zero time means it never expires.
	ExpiresAt time.Time
	// Global is the token's "global" claim ([GlobalClaim]): its roles apply
	// to every tenant (publishing anywhere, broadcast, the admin
	// endpoints). False means the identity acts in TenantID only.
	Global bool
}

// HasRole reports whether the identity has role. An admin also has the
// publisher role.
func (id Identity) HasRole(role string) bool {
	if slices.Contains(id.Roles, role) {
		return true
	}
	return role == RolePublisher && slices.Contains(id.Roles, RoleAdmin)
}

// InTenant reports whether the identity may act in tenant: a global
// identity anywhere, another one only in its own tenant.
func (id Identity) InTenant(tenant string) bool {
	return id.Global || (id.TenantID != "" && id.TenantID == tenant)
}

type identityKey struct{}

// WithIdentity returns a copy of ctx that carries id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the identity stored in ctx by [WithIdentity] and
// whether there was one.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}
