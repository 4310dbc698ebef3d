package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/goleak"

	"github.com/ssehub/ssehub/auth"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// secret is the HS256 key of most tests.
var secret = []byte("test-secret-0123456789abcdef-0123456789")

// Keys are generated once per test binary: RSA generation is slow.
var (
	rsaKey   = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	rsaKey2  = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	ecKey    = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P256()) })
	ecKey2   = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P256()) })
	ecKey384 = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P384()) })
)

func mustRSA(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func mustEC(c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// pemPublic PEM-encodes pub as a PKIX "PUBLIC KEY".
func pemPublic(t testing.TB, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// claims returns valid claims for u1 in t1, expiring in an hour, with
// overrides applied; an override of nil deletes the claim.
func claims(overrides map[string]any) jwt.MapClaims {
	c := jwt.MapClaims{
		"sub":      "u1",
		"tid":      "t1",
		"channels": []string{"conversation:*"},
		"roles":    []string{"publisher"},
		"exp":      time.Now().Add(time.Hour).Unix(),
	}
	for k, v := range overrides {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// sign signs c with method and key, setting the "kid" header unless empty.
func sign(t testing.TB, method jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// bearer returns a request carrying tok in the Authorization header.
func bearer(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/api/sse", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

func newJWT(t testing.TB, cfg auth.JWTConfig) *auth.JWT {
	t.Helper()
	a, err := auth.NewJWT(cfg)
	if err != nil {
		t.Fatalf("NewJWT: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// checkErr fails unless err wraps every one of want (nil want: err is nil),
// and checks that the message never repeats the token.
func checkErr(t testing.TB, err error, tok string, want ...error) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("got error %v, want nil", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("got nil error, want %v", want)
	}
	for _, w := range want {
		if !errors.Is(err, w) {
			t.Errorf("got error %q, want it to wrap %q", err, w)
		}
	}
	if tok != "" && strings.Contains(err.Error(), tok) {
		t.Errorf("error message contains the token: %q", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error message spans lines: %q", err)
	}
}
