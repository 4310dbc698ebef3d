package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ssehub/ssehub/auth"
)

// TestTenancyFailsClosed: every form of tenant claim a token can carry,
// and what it may become. Nothing but an explicit "global": true gives
// power beyond one tenant; a present but empty, null or non-string tenant
// claim, or a tenant claim under another name, is refused.
func TestTenancyFailsClosed(t *testing.T) {
	exp := time.Now().Add(time.Hour).Unix()
	tok := func(extra map[string]any) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "backend", "roles": []string{"publisher"}, "exp": exp}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	for _, tc := range []struct {
		name       string
		cfg        auth.JWTConfig
		claims     jwt.MapClaims
		wantErr    string // substring; "" means accepted
		wantTenant string
		wantGlobal bool
	}{
		{"bound publisher", auth.JWTConfig{}, tok(map[string]any{"tid": "t1"}), "", "t1", false},
		{"bound admin stays bound", auth.JWTConfig{}, tok(map[string]any{"tid": "_ops", "roles": []string{"admin"}}), "", "_ops", false},
		{"explicit global", auth.JWTConfig{}, tok(map[string]any{"global": true}), "", "", true},
		{"global with a home tenant", auth.JWTConfig{}, tok(map[string]any{"tid": "_ops", "global": true, "roles": []string{"admin"}}), "", "_ops", true},
		{"global false", auth.JWTConfig{}, tok(map[string]any{"tid": "t1", "global": false}), "", "t1", false},
		{"publisher without tenant", auth.JWTConfig{}, tok(nil), `missing "tid"`, "", false},
		{"admin without tenant", auth.JWTConfig{}, tok(map[string]any{"roles": []string{"admin"}}), `missing "tid"`, "", false},
		{"empty tenant", auth.JWTConfig{}, tok(map[string]any{"tid": ""}), "non-empty string", "", false},
		{"null tenant", auth.JWTConfig{}, tok(map[string]any{"tid": nil}), "non-empty string", "", false},
		{"numeric tenant", auth.JWTConfig{}, tok(map[string]any{"tid": 7}), "non-empty string", "", false},
		{"global not a bool", auth.JWTConfig{}, tok(map[string]any{"tid": "t1", "global": "yes"}), `"global" claim must be true or false`, "", false},
		{"mistyped tenant-claim", auth.JWTConfig{TenantClaim: "tenant_id"}, tok(map[string]any{"tid": "t1"}), `missing "tenant_id"`, "", false},
		{"default tenant", auth.JWTConfig{TenantClaim: "tenant_id", DefaultTenant: "main"}, tok(nil), "", "main", false},
		{"default tenant, empty claim", auth.JWTConfig{DefaultTenant: "main"}, tok(map[string]any{"tid": ""}), "non-empty string", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Secret = secret
			a := newJWT(t, cfg)
			id, err := a.Authenticate(bearer(sign(t, jwt.SigningMethodHS256, secret, "", tc.claims)))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("got %v, want accepted", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("got %+v, %v; want an error containing %q", id, err, tc.wantErr)
			case tc.wantErr == "" && (id.TenantID != tc.wantTenant || id.Global != tc.wantGlobal):
				t.Fatalf("got tenant %q global %v, want %q %v", id.TenantID, id.Global, tc.wantTenant, tc.wantGlobal)
			}
		})
	}
}

// TestIssuedInTheFuture: "iat" later than now plus the leeway is refused;
// within the leeway it is accepted.
func TestIssuedInTheFuture(t *testing.T) {
	a := newJWT(t, auth.JWTConfig{Secret: secret, Leeway: 5 * time.Second})
	now := time.Now()
	for _, tc := range []struct {
		name string
		iat  time.Time
		ok   bool
	}{
		{"now", now, true},
		{"within the leeway", now.Add(3 * time.Second), true},
		{"an hour ahead", now.Add(time.Hour), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.Authenticate(bearer(sign(t, jwt.SigningMethodHS256, secret, "", claims(map[string]any{"iat": tc.iat.Unix()}))))
			if (err == nil) != tc.ok {
				t.Fatalf("got %v, want accepted %v", err, tc.ok)
			}
		})
	}
}
