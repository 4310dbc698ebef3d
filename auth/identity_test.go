package auth_test

import (
	"context"
	"slices"
	"testing"

	"github.com/ssehub/ssehub/auth"
)

func TestIdentityHasRole(t *testing.T) {
	tests := []struct {
		roles []string
		role  string
		want  bool
	}{
		{nil, auth.RolePublisher, false},
		{nil, auth.RoleAdmin, false},
		{[]string{auth.RolePublisher}, auth.RolePublisher, true},
		{[]string{auth.RolePublisher}, auth.RoleAdmin, false},
		{[]string{auth.RoleAdmin}, auth.RoleAdmin, true},
		{[]string{auth.RoleAdmin}, auth.RolePublisher, true}, // admin implies publisher
		{[]string{"viewer"}, "viewer", true},
		{[]string{auth.RoleAdmin}, "viewer", false},
		{[]string{"Publisher"}, auth.RolePublisher, false}, // exact match
	}
	for _, tt := range tests {
		id := auth.Identity{Roles: tt.roles}
		if got := id.HasRole(tt.role); got != tt.want {
			t.Errorf("Identity{Roles: %q}.HasRole(%q): got %v, want %v", tt.roles, tt.role, got, tt.want)
		}
	}
}

func TestContext(t *testing.T) {
	ctx := context.Background()
	if _, ok := auth.FromContext(ctx); ok {
		t.Fatal("FromContext on an empty context: got ok, want !ok")
	}
	want := auth.Identity{UserID: "u1", TenantID: "t1", Channels: []string{"a"}}
	got, ok := auth.FromContext(auth.WithIdentity(ctx, want))
	if !ok || got.UserID != want.UserID || got.TenantID != want.TenantID || !slices.Equal(got.Channels, want.Channels) {
		t.Fatalf("FromContext: got %+v, %v, want %+v, true", got, ok, want)
	}
}
