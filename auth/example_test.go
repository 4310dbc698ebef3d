package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ssehub/ssehub/auth"
)

// Mint a token, authenticate a request that carries it, and check which
// channels the identity may subscribe to.
func Example() {
	secret := []byte("a-dev-secret-of-at-least-32-bytes!")
	a, err := auth.NewJWT(auth.JWTConfig{Secret: secret})
	if err != nil {
		panic(err)
	}
	defer a.Close()

	tok, err := auth.Mint(secret, auth.Claims{
		Subject:  "u1",
		TenantID: "t1",
		Channels: []string{"conversation:*"},
	}, time.Hour)
	if err != nil {
		panic(err)
	}

	// EventSource cannot set headers, so browsers send the token in the query.
	r := httptest.NewRequest(http.MethodGet, "/api/sse?access_token="+tok, nil)
	id, err := a.Authenticate(r)
	if err != nil {
		panic(err)
	}
	fmt.Println(id.UserID, id.TenantID, id.Channels, id.HasRole(auth.RolePublisher))

	ctx := auth.WithIdentity(r.Context(), id)
	id, _ = auth.FromContext(ctx)
	fmt.Println(auth.PatternAuthorizer.AuthorizeChannel(ctx, id, "conversation:123"))
	err = auth.PatternAuthorizer.AuthorizeChannel(ctx, id, "billing")
	fmt.Println(errors.Is(err, auth.ErrForbidden), err)

	_, err = a.Authenticate(httptest.NewRequest(http.MethodGet, "/api/sse", nil))
	fmt.Println(err)
	// Output:
	// u1 t1 [conversation:*] false
	// <nil>
	// true auth: forbidden: channel "billing" not permitted
	// auth: no credentials
}

// An embedder that already has sessions plugs its own authenticator in:
// here a session cookie looked up in a store.
func ExampleAuthenticatorFunc() {
	sessions := map[string]auth.Identity{ // a real app asks its session store
		"s3cr3t-session-id": {UserID: "alice", TenantID: "acme", Channels: []string{"*"}},
	}
	var sessionAuth auth.Authenticator = auth.AuthenticatorFunc(func(r *http.Request) (auth.Identity, error) {
		c, err := r.Cookie("session")
		if err != nil || c.Value == "" {
			return auth.Identity{}, auth.ErrNoCredentials
		}
		id, ok := sessions[c.Value]
		if !ok {
			return auth.Identity{}, fmt.Errorf("%w: unknown session", auth.ErrInvalidToken)
		}
		return id, nil
	})

	for _, cookie := range []string{"s3cr3t-session-id", "forged", ""} {
		r := httptest.NewRequest(http.MethodGet, "/api/sse", nil)
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: "session", Value: cookie})
		}
		id, err := sessionAuth.Authenticate(r)
		fmt.Printf("%q %v\n", id.UserID, err)
	}
	// Output:
	// "alice" <nil>
	// "" auth: invalid token: unknown session
	// "" auth: no credentials
}

// An Authorizer can implement any policy; this one lets each user subscribe
// to their own inbox channel only.
func ExampleAuthorizerFunc() {
	own := auth.AuthorizerFunc(func(_ context.Context, id auth.Identity, channel string) error {
		if channel == "inbox:"+id.UserID {
			return nil
		}
		return fmt.Errorf("%w: channel %q", auth.ErrForbidden, channel)
	})
	id := auth.Identity{UserID: "u1", TenantID: "t1"}
	fmt.Println(own.AuthorizeChannel(context.Background(), id, "inbox:u1"))
	fmt.Println(own.AuthorizeChannel(context.Background(), id, "inbox:u2"))
	// Output:
	// <nil>
	// auth: forbidden: channel "inbox:u2"
}
