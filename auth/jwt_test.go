package auth_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ssehub/ssehub/auth"
)

func TestNewJWTRefusesBadConfig(t *testing.T) {
	rsaPEM := pemPublic(t, &rsaKey().PublicKey)
	privDER, err := x509.MarshalPKCS8PrivateKey(ecKey())
	if err != nil {
		t.Fatal(err)
	}
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})
	tests := []struct {
		name string
		cfg  auth.JWTConfig
		want string
	}{
		{"no key source", auth.JWTConfig{}, "no key source"},
		{"short secret", auth.JWTConfig{Secret: []byte("short")}, "at least 32"},
		{"empty secret", auth.JWTConfig{Secret: []byte{}}, "at least 32"},
		{"not PEM", auth.JWTConfig{PublicKeysPEM: []byte("hello")}, "not PEM"},
		{"PEM then garbage", auth.JWTConfig{PublicKeysPEM: append(slices.Clone(rsaPEM), "junk"...)}, "not PEM"},
		{"private key", auth.JWTConfig{PublicKeysPEM: privPEM}, "private key"},
		{"P-384 key", auth.JWTConfig{PublicKeysPEM: pemPublic(t, &ecKey384().PublicKey)}, "P-256"},
		{"small RSA key", auth.JWTConfig{PublicKeysPEM: pemPublic(t, &mustRSA(1024).PublicKey)}, "at least 2048"},
		{"JWKS not http", auth.JWTConfig{JWKSURL: "ftp://example.com/jwks"}, "http or https"},
		{"JWKS relative", auth.JWTConfig{JWKSURL: "/jwks.json"}, "http or https"},
		{"reserved tenant claim", auth.JWTConfig{Secret: secret, TenantClaim: "sub"}, "reserved"},
		{"negative leeway", auth.JWTConfig{Secret: secret, Leeway: -time.Second}, "Leeway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := auth.NewJWT(tt.cfg)
			if err == nil {
				a.Close()
				t.Fatalf("NewJWT: got nil error, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "auth: ") {
				t.Fatalf("NewJWT: got %q, want an auth: error containing %q", err, tt.want)
			}
			if err := tt.cfg.Validate(); err == nil {
				t.Fatal("Validate: got nil, want an error")
			}
		})
	}
}

func TestAuthenticateClaims(t *testing.T) {
	a := newJWT(t, auth.JWTConfig{Secret: secret})
	now := time.Now()
	tests := []struct {
		name   string
		claims jwt.MapClaims
		want   auth.Identity // when err is nil
		errs   []error
		msg    string // substring of the error
	}{
		{
			name:   "valid",
			claims: claims(map[string]any{"exp": now.Add(time.Hour).Unix()}),
			want: auth.Identity{UserID: "u1", TenantID: "t1", Channels: []string{"conversation:*"},
				Roles: []string{"publisher"}, ExpiresAt: time.Unix(now.Add(time.Hour).Unix(), 0)},
		},
		{
			name:   "no exp never expires",
			claims: claims(map[string]any{"exp": nil, "roles": nil, "channels": nil}),
			want:   auth.Identity{UserID: "u1", TenantID: "t1"},
		},
		{
			name:   "null channels and roles",
			claims: claims(map[string]any{"exp": nil, "roles": []any(nil), "channels": []any(nil)}),
			want:   auth.Identity{UserID: "u1", TenantID: "t1"},
		},
		{
			name:   "expired",
			claims: claims(map[string]any{"exp": now.Add(-time.Minute).Unix()}),
			errs:   []error{auth.ErrInvalidToken, auth.ErrTokenExpired},
			msg:    "expired",
		},
		{
			name:   "not yet valid",
			claims: claims(map[string]any{"nbf": now.Add(time.Hour).Unix()}),
			errs:   []error{auth.ErrInvalidToken},
			msg:    "not valid yet",
		},
		{
			name:   "exp of the wrong type",
			claims: claims(map[string]any{"exp": "tomorrow"}),
			errs:   []error{auth.ErrInvalidToken},
			msg:    "exp",
		},
		{"no sub", claims(map[string]any{"sub": nil}), auth.Identity{}, []error{auth.ErrInvalidToken}, `missing "sub"`},
		{"empty sub", claims(map[string]any{"sub": ""}), auth.Identity{}, []error{auth.ErrInvalidToken}, `missing "sub"`},
		{"sub a number", claims(map[string]any{"sub": 42}), auth.Identity{}, []error{auth.ErrInvalidToken}, `"sub" claim must be a string`},
		{"roles a string", claims(map[string]any{"roles": "admin"}), auth.Identity{}, []error{auth.ErrInvalidToken}, `"roles" claim must be an array of strings`},
		{"roles with a number", claims(map[string]any{"roles": []any{"publisher", 1}}), auth.Identity{}, []error{auth.ErrInvalidToken}, `"roles" claim must be an array of strings`},
		{"channels a number", claims(map[string]any{"channels": 7}), auth.Identity{}, []error{auth.ErrInvalidToken}, `"channels" claim must be an array of strings`},
		{"channels an object", claims(map[string]any{"channels": map[string]any{"a": 1}}), auth.Identity{}, []error{auth.ErrInvalidToken}, `"channels" claim must be an array of strings`},
		{"tenant a number", claims(map[string]any{"tid": 1}), auth.Identity{}, []error{auth.ErrInvalidToken}, `"tid" (tenant) claim must be a non-empty string`},
		{
			name:   "no tenant, plain user",
			claims: claims(map[string]any{"tid": nil, "roles": nil}),
			errs:   []error{auth.ErrInvalidToken},
			msg:    `missing "tid"`,
		},
		{
			name:   "empty tenant, plain user",
			claims: claims(map[string]any{"tid": "", "roles": []string{"viewer"}}),
			errs:   []error{auth.ErrInvalidToken},
			msg:    `"tid" (tenant) claim must be a non-empty string`,
		},
		{
			name:   "no tenant, publisher is refused",
			claims: claims(map[string]any{"tid": nil, "exp": nil, "channels": nil}),
			errs:   []error{auth.ErrInvalidToken},
			msg:    `missing "tid"`,
		},
		{
			name:   "no tenant, global publisher",
			claims: claims(map[string]any{"tid": nil, "exp": nil, "channels": nil, "global": true}),
			want:   auth.Identity{UserID: "u1", Roles: []string{"publisher"}, Global: true},
		},
		{
			name:   "no tenant, global admin",
			claims: claims(map[string]any{"tid": nil, "exp": nil, "channels": nil, "roles": []string{"admin"}, "global": true}),
			want:   auth.Identity{UserID: "u1", Roles: []string{"admin"}, Global: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := sign(t, jwt.SigningMethodHS256, secret, "", tt.claims)
			got, err := a.Authenticate(bearer(tok))
			checkErr(t, err, tok, tt.errs...)
			if err != nil {
				if !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("got error %q, want it to contain %q", err, tt.msg)
				}
				return
			}
			checkIdentity(t, got, tt.want)
		})
	}
}

func checkIdentity(t *testing.T, got, want auth.Identity) {
	t.Helper()
	if got.UserID != want.UserID || got.TenantID != want.TenantID ||
		!slices.Equal(got.Channels, want.Channels) || !slices.Equal(got.Roles, want.Roles) ||
		!got.ExpiresAt.Equal(want.ExpiresAt) || got.Global != want.Global {
		t.Fatalf("got identity %+v, want %+v", got, want)
	}
}

// TestAlgorithms checks that only the algorithms of the configured key kinds
// are accepted, whatever the token claims.
func TestAlgorithms(t *testing.T) {
	rsaPEM := pemPublic(t, &rsaKey().PublicKey)
	ecPEM := pemPublic(t, &ecKey().PublicKey)
	bothPEM := append(slices.Clone(rsaPEM), ecPEM...)
	c := claims(nil)

	noneTok := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", c)
	hsTok := sign(t, jwt.SigningMethodHS256, secret, "", c)
	rsTok := sign(t, jwt.SigningMethodRS256, rsaKey(), "", c)
	esTok := sign(t, jwt.SigningMethodES256, ecKey(), "", c)

	tests := []struct {
		name string
		cfg  auth.JWTConfig
		tok  string
		ok   bool
	}{
		{"HS256 with secret", auth.JWTConfig{Secret: secret}, hsTok, true},
		{"RS256 with RSA key", auth.JWTConfig{PublicKeysPEM: rsaPEM}, rsTok, true},
		{"ES256 with EC key", auth.JWTConfig{PublicKeysPEM: ecPEM}, esTok, true},
		{"RS256 with both keys", auth.JWTConfig{PublicKeysPEM: bothPEM}, rsTok, true},
		{"ES256 with both keys", auth.JWTConfig{PublicKeysPEM: bothPEM}, esTok, true},
		{"HS256 with secret and keys", auth.JWTConfig{Secret: secret, PublicKeysPEM: bothPEM}, hsTok, true},
		{"RS256 with secret and keys", auth.JWTConfig{Secret: secret, PublicKeysPEM: bothPEM}, rsTok, true},
		{"RS256 in a PKCS #1 block", auth.JWTConfig{PublicKeysPEM: pem.EncodeToMemory(&pem.Block{
			Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsaKey().PublicKey)})}, rsTok, true},

		{"alg none, secret", auth.JWTConfig{Secret: secret}, noneTok, false},
		{"alg none, keys", auth.JWTConfig{PublicKeysPEM: bothPEM}, noneTok, false},
		{"RS256 when only a secret is set", auth.JWTConfig{Secret: secret}, rsTok, false},
		{"ES256 when only a secret is set", auth.JWTConfig{Secret: secret}, esTok, false},
		{"HS256 when only keys are set", auth.JWTConfig{PublicKeysPEM: bothPEM}, hsTok, false},
		{"ES256 when only an RSA key is set", auth.JWTConfig{PublicKeysPEM: rsaPEM}, esTok, false},
		{"RS256 when only an EC key is set", auth.JWTConfig{PublicKeysPEM: ecPEM}, rsTok, false},
		{"key confusion: HS256 signed with the RSA PEM", auth.JWTConfig{PublicKeysPEM: rsaPEM},
			sign(t, jwt.SigningMethodHS256, rsaPEM, "", c), false},
		{"key confusion: HS256 signed with the EC PEM", auth.JWTConfig{PublicKeysPEM: ecPEM},
			sign(t, jwt.SigningMethodHS256, ecPEM, "", c), false},
		{"key confusion with a secret also set", auth.JWTConfig{Secret: secret, PublicKeysPEM: rsaPEM},
			sign(t, jwt.SigningMethodHS256, rsaPEM, "", c), false},
		{"HS384 with the secret", auth.JWTConfig{Secret: secret},
			sign(t, jwt.SigningMethodHS384, secret, "", c), false},
		{"HS256 with another secret", auth.JWTConfig{Secret: secret},
			sign(t, jwt.SigningMethodHS256, []byte("another-secret-0123456789abcdef-0123"), "", c), false},
		{"PS256 with the RSA key", auth.JWTConfig{PublicKeysPEM: rsaPEM},
			sign(t, jwt.SigningMethodPS256, rsaKey(), "", c), false},
		{"RS512 with the RSA key", auth.JWTConfig{PublicKeysPEM: rsaPEM},
			sign(t, jwt.SigningMethodRS512, rsaKey(), "", c), false},
		{"RS256 by another key", auth.JWTConfig{PublicKeysPEM: rsaPEM},
			sign(t, jwt.SigningMethodRS256, rsaKey2(), "", c), false},
		{"ES256 by another key", auth.JWTConfig{PublicKeysPEM: ecPEM},
			sign(t, jwt.SigningMethodES256, ecKey2(), "", c), false},
		{"ES384 with a P-384 key", auth.JWTConfig{PublicKeysPEM: ecPEM},
			sign(t, jwt.SigningMethodES384, ecKey384(), "", c), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newJWT(t, tt.cfg)
			id, err := a.Authenticate(bearer(tt.tok))
			if tt.ok {
				checkErr(t, err, tt.tok)
				if id.UserID != "u1" {
					t.Fatalf("got UserID %q, want u1", id.UserID)
				}
				return
			}
			checkErr(t, err, tt.tok, auth.ErrInvalidToken)
		})
	}
}

func TestMalformedTokens(t *testing.T) {
	a := newJWT(t, auth.JWTConfig{Secret: secret})
	valid := sign(t, jwt.SigningMethodHS256, secret, "", claims(nil))
	parts := strings.Split(valid, ".")
	tests := []struct{ name, tok string }{
		{"one segment", "abcdefghijklmnopqrstuvwxyz"},
		{"two segments", parts[0] + "." + parts[1]},
		{"four segments", valid + ".x"},
		{"bad base64 header", "!!!." + parts[1] + "." + parts[2]},
		{"header not JSON", "bm90IGpzb24." + parts[1] + "." + parts[2]},
		{"claims not JSON", parts[0] + ".bm90IGpzb24." + parts[2]},
		{"claims an array", parts[0] + ".WzEsMiwzXQ." + parts[2]},
		{"tampered claims", parts[0] + "." + parts[1] + "x." + parts[2]},
		{"no signature", parts[0] + "." + parts[1] + "."},
		{"empty segments", ".."},
		{"too long", strings.Repeat("a", 17<<10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.Authenticate(bearer(tt.tok))
			checkErr(t, err, tt.tok, auth.ErrInvalidToken)
		})
	}
}

func TestAuthenticateOptions(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name   string
		cfg    auth.JWTConfig
		claims jwt.MapClaims
		want   auth.Identity
		errs   []error
	}{
		{
			name:   "leeway accepts a just-expired token",
			cfg:    auth.JWTConfig{Secret: secret, Leeway: time.Minute},
			claims: claims(map[string]any{"exp": now.Add(-10 * time.Second).Unix()}),
			want: auth.Identity{UserID: "u1", TenantID: "t1", Channels: []string{"conversation:*"},
				Roles: []string{"publisher"}, ExpiresAt: time.Unix(now.Add(-10*time.Second).Unix(), 0)},
		},
		{
			name:   "leeway has limits",
			cfg:    auth.JWTConfig{Secret: secret, Leeway: time.Minute},
			claims: claims(map[string]any{"exp": now.Add(-2 * time.Minute).Unix()}),
			errs:   []error{auth.ErrInvalidToken, auth.ErrTokenExpired},
		},
		{
			name:   "RequireExpiry refuses a token without exp",
			cfg:    auth.JWTConfig{Secret: secret, RequireExpiry: true},
			claims: claims(map[string]any{"exp": nil}),
			errs:   []error{auth.ErrInvalidToken},
		},
		{
			name:   "issuer matches",
			cfg:    auth.JWTConfig{Secret: secret, Issuer: "https://idp"},
			claims: claims(map[string]any{"iss": "https://idp", "exp": nil, "roles": nil, "channels": nil}),
			want:   auth.Identity{UserID: "u1", TenantID: "t1"},
		},
		{
			name:   "issuer differs",
			cfg:    auth.JWTConfig{Secret: secret, Issuer: "https://idp"},
			claims: claims(map[string]any{"iss": "https://evil"}),
			errs:   []error{auth.ErrInvalidToken},
		},
		{
			name:   "issuer missing",
			cfg:    auth.JWTConfig{Secret: secret, Issuer: "https://idp"},
			claims: claims(nil),
			errs:   []error{auth.ErrInvalidToken},
		},
		{
			name:   "audience in a list",
			cfg:    auth.JWTConfig{Secret: secret, Audience: "ssehub"},
			claims: claims(map[string]any{"aud": []string{"other", "ssehub"}, "exp": nil, "roles": nil, "channels": nil}),
			want:   auth.Identity{UserID: "u1", TenantID: "t1"},
		},
		{
			name:   "audience differs",
			cfg:    auth.JWTConfig{Secret: secret, Audience: "ssehub"},
			claims: claims(map[string]any{"aud": "other"}),
			errs:   []error{auth.ErrInvalidToken},
		},
		{
			name:   "custom tenant claim",
			cfg:    auth.JWTConfig{Secret: secret, TenantClaim: "org"},
			claims: claims(map[string]any{"tid": nil, "org": "acme", "exp": nil, "roles": nil, "channels": nil}),
			want:   auth.Identity{UserID: "u1", TenantID: "acme"},
		},
		{
			name:   "custom tenant claim ignores tid",
			cfg:    auth.JWTConfig{Secret: secret, TenantClaim: "org"},
			claims: claims(map[string]any{"roles": nil}),
			errs:   []error{auth.ErrInvalidToken},
		},
		{
			name:   "default tenant",
			cfg:    auth.JWTConfig{Secret: secret, DefaultTenant: "main"},
			claims: claims(map[string]any{"tid": nil, "exp": nil, "roles": nil, "channels": nil}),
			want:   auth.Identity{UserID: "u1", TenantID: "main"},
		},
		{
			name:   "default tenant binds publishers too",
			cfg:    auth.JWTConfig{Secret: secret, DefaultTenant: "main"},
			claims: claims(map[string]any{"tid": nil, "exp": nil, "channels": nil}),
			want:   auth.Identity{UserID: "u1", TenantID: "main", Roles: []string{"publisher"}},
		},
		{
			name:   "a tenant claim beats the default",
			cfg:    auth.JWTConfig{Secret: secret, DefaultTenant: "main"},
			claims: claims(map[string]any{"exp": nil, "roles": nil, "channels": nil}),
			want:   auth.Identity{UserID: "u1", TenantID: "t1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newJWT(t, tt.cfg)
			tok := sign(t, jwt.SigningMethodHS256, secret, "", tt.claims)
			got, err := a.Authenticate(bearer(tok))
			checkErr(t, err, tok, tt.errs...)
			if err == nil {
				checkIdentity(t, got, tt.want)
			}
		})
	}
}

func TestExtraction(t *testing.T) {
	tokFor := func(sub string) string {
		return sign(t, jwt.SigningMethodHS256, secret, "", claims(map[string]any{"sub": sub}))
	}
	header, query, cookie := tokFor("from-header"), tokFor("from-query"), tokFor("from-cookie")
	type req struct {
		auth   string // Authorization header
		query  string // raw query
		cookie *http.Cookie
	}
	tests := []struct {
		name string
		cfg  auth.JWTConfig
		req  req
		sub  string // want; "" means an error
		errs []error
	}{
		{"header", auth.JWTConfig{}, req{auth: "Bearer " + header}, "from-header", nil},
		{"header, lowercase scheme", auth.JWTConfig{}, req{auth: "bearer " + header}, "from-header", nil},
		{"header, extra spaces", auth.JWTConfig{}, req{auth: "  Bearer   " + header + " "}, "from-header", nil},
		{"query", auth.JWTConfig{}, req{query: "access_token=" + query}, "from-query", nil},
		{"cookie", auth.JWTConfig{}, req{cookie: &http.Cookie{Name: "ssehub_token", Value: cookie}}, "from-cookie", nil},
		{"header beats query and cookie", auth.JWTConfig{},
			req{auth: "Bearer " + header, query: "access_token=" + query, cookie: &http.Cookie{Name: "ssehub_token", Value: cookie}}, "from-header", nil},
		{"query beats cookie", auth.JWTConfig{},
			req{query: "access_token=" + query, cookie: &http.Cookie{Name: "ssehub_token", Value: cookie}}, "from-query", nil},
		{"other scheme falls through", auth.JWTConfig{}, req{auth: "Basic dTpw", query: "access_token=" + query}, "from-query", nil},
		{"custom names", auth.JWTConfig{QueryParam: "t", CookieName: "sess"},
			req{query: "access_token=" + query, cookie: &http.Cookie{Name: "sess", Value: cookie}}, "from-cookie", nil},
		{"custom query", auth.JWTConfig{QueryParam: "t"}, req{query: "t=" + query}, "from-query", nil},

		{"nothing", auth.JWTConfig{}, req{}, "", []error{auth.ErrNoCredentials}},
		{"other scheme only", auth.JWTConfig{}, req{auth: "Basic dTpw"}, "", []error{auth.ErrNoCredentials}},
		{"empty bearer", auth.JWTConfig{}, req{auth: "Bearer "}, "", []error{auth.ErrInvalidToken}},
		{"bare bearer", auth.JWTConfig{}, req{auth: "Bearer"}, "", []error{auth.ErrInvalidToken}},
		{"empty bearer does not fall through", auth.JWTConfig{}, req{auth: "Bearer", query: "access_token=" + query}, "", []error{auth.ErrInvalidToken}},
		{"empty query", auth.JWTConfig{}, req{query: "access_token="}, "", []error{auth.ErrInvalidToken}},
		{"empty cookie is a logout", auth.JWTConfig{}, req{cookie: &http.Cookie{Name: "ssehub_token", Value: ""}}, "", []error{auth.ErrNoCredentials}},
		{"query disabled", auth.JWTConfig{QueryParam: "-"}, req{query: "access_token=" + query}, "", []error{auth.ErrNoCredentials}},
		{"cookie disabled", auth.JWTConfig{CookieName: "-"}, req{cookie: &http.Cookie{Name: "ssehub_token", Value: cookie}}, "", []error{auth.ErrNoCredentials}},
		{"bad token in cookie", auth.JWTConfig{}, req{cookie: &http.Cookie{Name: "ssehub_token", Value: "a.b.c"}}, "", []error{auth.ErrInvalidToken}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Secret = secret
			a := newJWT(t, tt.cfg)
			r := httptest.NewRequest(http.MethodGet, "/api/sse?"+tt.req.query, nil)
			if tt.req.auth != "" {
				r.Header.Set("Authorization", tt.req.auth)
			}
			if tt.req.cookie != nil {
				r.AddCookie(tt.req.cookie)
			}
			id, err := a.Authenticate(r)
			checkErr(t, err, "", tt.errs...)
			if id.UserID != tt.sub {
				t.Fatalf("got UserID %q, want %q", id.UserID, tt.sub)
			}
		})
	}
}

func TestMint(t *testing.T) {
	a := newJWT(t, auth.JWTConfig{Secret: secret, TenantClaim: "org", Issuer: "me", Audience: "you"})
	tok, err := auth.Mint(secret, auth.Claims{
		Subject: "u1", TenantID: "acme", TenantClaim: "org",
		Channels: []string{"news"}, Roles: []string{auth.RoleAdmin},
		Issuer: "me", Audience: "you",
	}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	id, err := a.Authenticate(bearer(tok))
	if err != nil {
		t.Fatal(err)
	}
	if id.UserID != "u1" || id.TenantID != "acme" || !slices.Equal(id.Channels, []string{"news"}) || !id.HasRole(auth.RolePublisher) {
		t.Fatalf("got %+v", id)
	}
	if d := time.Until(id.ExpiresAt); d < 58*time.Minute || d > time.Hour {
		t.Fatalf("got ExpiresAt in %v, want about 1h", d)
	}

	b := newJWT(t, auth.JWTConfig{Secret: secret})
	tok, err = auth.Mint(secret, auth.Claims{Subject: "svc", Roles: []string{auth.RolePublisher}, Global: true}, 0)
	if err != nil {
		t.Fatal(err)
	}
	id, err = b.Authenticate(bearer(tok))
	if err != nil {
		t.Fatal(err)
	}
	if !id.ExpiresAt.IsZero() || id.TenantID != "" || id.Channels != nil || !id.Global {
		t.Fatalf("ttl 0: got %+v, want no expiry, no tenant, no channels", id)
	}
}

func TestMintRefuses(t *testing.T) {
	tests := []struct {
		name   string
		secret []byte
		c      auth.Claims
	}{
		{"short secret", []byte("short"), auth.Claims{Subject: "u1"}},
		{"nil secret", nil, auth.Claims{Subject: "u1"}},
		{"no subject", secret, auth.Claims{TenantID: "t1"}},
		{"reserved tenant claim", secret, auth.Claims{Subject: "u1", TenantClaim: "roles"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := auth.Mint(tt.secret, tt.c, time.Hour)
			if err == nil || tok != "" {
				t.Fatalf("got %q, %v; want an error", tok, err)
			}
		})
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	a, err := auth.NewJWT(auth.JWTConfig{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := a.Close(); err != nil {
			t.Fatalf("Close: got %v, want nil", err)
		}
	}
	// Without a JWK Set, Close changes nothing.
	tok, _ := auth.Mint(secret, auth.Claims{Subject: "u1", TenantID: "t1"}, time.Hour)
	if _, err := a.Authenticate(bearer(tok)); err != nil {
		t.Fatalf("Authenticate after Close: %v", err)
	}
}

func TestErrorSentinelsAreDistinct(t *testing.T) {
	all := []error{auth.ErrNoCredentials, auth.ErrInvalidToken, auth.ErrTokenExpired, auth.ErrForbidden}
	for i, a := range all {
		for j, b := range all {
			if (i == j) != errors.Is(a, b) {
				t.Errorf("errors.Is(%v, %v) = %v", a, b, errors.Is(a, b))
			}
		}
	}
}
