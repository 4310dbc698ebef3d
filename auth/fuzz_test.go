package auth_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/ssehub/ssehub/auth"
)

// fuzzSecret signs the tokens of the seed corpus in testdata/fuzz; every one
// of them is invalid in some way.
var fuzzSecret = []byte("fuzz-secret-0123456789abcdef-0123456789")

// FuzzAuthenticate feeds arbitrary token strings to an authenticator with
// every key source configured: none may panic or be accepted, and no error
// may repeat the token.
func FuzzAuthenticate(f *testing.F) {
	ecPEM := pemPublic(f, &ecKey().PublicKey)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, err := jwkset.NewJWKFromKey(&ecKey().PublicKey, jwkset.JWKOptions{
			Metadata: jwkset.JWKMetadataOptions{KID: "ec1", ALG: jwkset.AlgES256},
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		b, _ := jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{k.Marshal()}}.ToStorage()
		raw, _ := b.JSONPublic(r.Context())
		w.Write(raw)
	}))
	defer jwks.Close()
	a, err := auth.NewJWT(auth.JWTConfig{
		Secret:                 fuzzSecret,
		PublicKeysPEM:          ecPEM,
		JWKSURL:                jwks.URL,
		JWKSClient:             jwks.Client(),
		JWKSUnknownKIDInterval: -1,
	})
	if err != nil {
		f.Fatal(err)
	}
	defer a.Close()

	// Seeds that depend on keys made at run time; the rest are in
	// testdata/fuzz/FuzzAuthenticate.
	c := claims(nil)
	f.Add(sign(f, jwt.SigningMethodHS256, ecPEM, "", c))       // key confusion
	f.Add(sign(f, jwt.SigningMethodHS256, ecPEM, "ec1", c))    // key confusion via the JWK Set
	f.Add(sign(f, jwt.SigningMethodES256, ecKey2(), "ec1", c)) // wrong key
	f.Add(sign(f, jwt.SigningMethodRS256, rsaKey(), "ec1", c)) // no such RSA key

	f.Fuzz(func(t *testing.T, tok string) {
		r := httptest.NewRequest(http.MethodGet, "/api/sse", nil)
		r.Header["Authorization"] = []string{"Bearer " + tok}
		id, err := a.Authenticate(r)
		if err == nil {
			t.Fatalf("token accepted: %+v", id)
		}
		if tok = strings.TrimSpace(tok); len(tok) >= 24 && strings.Contains(err.Error(), tok) {
			t.Fatalf("error message contains the token: %q", err)
		}
	})
}
