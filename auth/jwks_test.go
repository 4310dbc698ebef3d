package auth_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/ssehub/ssehub/auth"
)

// jwksServer publishes a JWK Set that tests change as they go.
type jwksServer struct {
	*httptest.Server
	fetches atomic.Int64

	mu   sync.Mutex
	keys []jwkset.JWKMarshal
	fail bool // answer 500
}

func newJWKSServer(t *testing.T) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.fail {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(jwkset.JWKSMarshal{Keys: s.keys})
	}))
	t.Cleanup(s.Close)
	return s
}

// publish replaces the published keys.
func (s *jwksServer) publish(keys ...jwkset.JWKMarshal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
}

func (s *jwksServer) setFail(fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = fail
}

// jwk returns the public JWK of pub with kid, alg and use.
func jwk(t *testing.T, pub any, kid string, alg jwkset.ALG, use jwkset.USE) jwkset.JWKMarshal {
	t.Helper()
	k, err := jwkset.NewJWKFromKey(pub, jwkset.JWKOptions{
		Metadata: jwkset.JWKMetadataOptions{KID: kid, ALG: alg, USE: use},
	})
	if err != nil {
		t.Fatal(err)
	}
	return k.Marshal()
}

func (s *jwksServer) config() auth.JWTConfig {
	return auth.JWTConfig{JWKSURL: s.URL + "/.well-known/jwks.json", JWKSClient: s.Client()}
}

func TestJWKS(t *testing.T) {
	s := newJWKSServer(t)
	s.publish(
		jwk(t, &rsaKey().PublicKey, "rsa1", jwkset.AlgRS256, jwkset.UseSig),
		jwk(t, &ecKey().PublicKey, "ec1", jwkset.AlgES256, ""),
		jwk(t, &rsaKey2().PublicKey, "enc1", "", jwkset.UseEnc),
	)
	a := newJWT(t, s.config())
	c := claims(nil)
	tests := []struct {
		name string
		tok  string
		ok   bool
	}{
		{"RS256 by kid", sign(t, jwt.SigningMethodRS256, rsaKey(), "rsa1", c), true},
		{"ES256 by kid", sign(t, jwt.SigningMethodES256, ecKey(), "ec1", c), true},
		{"RS256 without kid", sign(t, jwt.SigningMethodRS256, rsaKey(), "", c), true},
		{"ES256 without kid", sign(t, jwt.SigningMethodES256, ecKey(), "", c), true},
		{"unknown kid", sign(t, jwt.SigningMethodRS256, rsaKey(), "nope", c), false},
		{"kid of another key", sign(t, jwt.SigningMethodRS256, rsaKey(), "ec1", c), false},
		{"kid of an encryption key", sign(t, jwt.SigningMethodRS256, rsaKey2(), "enc1", c), false},
		{"alg differs from the JWK's", sign(t, jwt.SigningMethodES256, ecKey(), "rsa1", c), false},
		{"HS256 without a secret", sign(t, jwt.SigningMethodHS256, secret, "", c), false},
		{"HS256 keyed with the JWK Set", sign(t, jwt.SigningMethodHS256, []byte(jsonOf(t, s)), "rsa1", c), false},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "rsa1", c), false},
		{"signed by an unpublished key", sign(t, jwt.SigningMethodES256, ecKey2(), "ec1", c), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := a.Authenticate(bearer(tt.tok))
			if tt.ok {
				checkErr(t, err, tt.tok)
				if id.UserID != "u1" || id.TenantID != "t1" {
					t.Fatalf("got %+v, want u1 in t1", id)
				}
				return
			}
			checkErr(t, err, tt.tok, auth.ErrInvalidToken)
		})
	}
}

func jsonOf(t *testing.T, s *jwksServer) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := json.Marshal(jwkset.JWKSMarshal{Keys: s.keys})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestJWKSRotation publishes a new key: a token naming its kid is accepted
// at once, through keyfunc's refresh on an unknown kid.
func TestJWKSRotation(t *testing.T) {
	s := newJWKSServer(t)
	s.publish(jwk(t, &rsaKey().PublicKey, "k1", jwkset.AlgRS256, jwkset.UseSig))
	cfg := s.config()
	cfg.JWKSUnknownKIDInterval = 10 * time.Millisecond
	a := newJWT(t, cfg)

	old := sign(t, jwt.SigningMethodRS256, rsaKey(), "k1", claims(nil))
	rotated := sign(t, jwt.SigningMethodES256, ecKey(), "k2", claims(nil))
	if _, err := a.Authenticate(bearer(old)); err != nil {
		t.Fatalf("k1 before rotation: %v", err)
	}
	_, err := a.Authenticate(bearer(rotated))
	checkErr(t, err, rotated, auth.ErrInvalidToken)

	s.publish(
		jwk(t, &rsaKey().PublicKey, "k1", jwkset.AlgRS256, jwkset.UseSig),
		jwk(t, &ecKey().PublicKey, "k2", jwkset.AlgES256, jwkset.UseSig),
	)
	before := s.fetches.Load()
	if _, err := a.Authenticate(bearer(rotated)); err != nil {
		t.Fatalf("k2 after rotation: got %v, want it accepted", err)
	}
	if got := s.fetches.Load() - before; got != 1 {
		t.Fatalf("got %d fetches for the new kid, want 1", got)
	}
	// Known kids are served from memory.
	before = s.fetches.Load()
	for range 5 {
		if _, err := a.Authenticate(bearer(old)); err != nil {
			t.Fatalf("k1 after rotation: %v", err)
		}
		if _, err := a.Authenticate(bearer(rotated)); err != nil {
			t.Fatalf("k2 after rotation: %v", err)
		}
	}
	if got := s.fetches.Load() - before; got != 0 {
		t.Fatalf("got %d fetches for known kids, want 0", got)
	}
}

// TestJWKSUnknownKIDIsRateLimited checks that tokens with made-up kids
// cannot make the server hammer the identity provider.
func TestJWKSUnknownKIDIsRateLimited(t *testing.T) {
	s := newJWKSServer(t)
	s.publish(jwk(t, &rsaKey().PublicKey, "k1", jwkset.AlgRS256, jwkset.UseSig))
	a := newJWT(t, s.config()) // default: one extra fetch per 5 minutes
	before := s.fetches.Load()
	start := time.Now()
	for i := range 20 {
		tok := sign(t, jwt.SigningMethodRS256, rsaKey(), "made-up-"+string(rune('a'+i)), claims(nil))
		_, err := a.Authenticate(bearer(tok))
		checkErr(t, err, tok, auth.ErrInvalidToken)
	}
	if got := s.fetches.Load() - before; got != 1 {
		t.Fatalf("got %d fetches for 20 unknown kids, want 1", got)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("rate-limited requests took %v: they must fail fast, not wait", d)
	}
}

func TestJWKSUnknownKIDRefreshDisabled(t *testing.T) {
	s := newJWKSServer(t)
	s.publish(jwk(t, &rsaKey().PublicKey, "k1", jwkset.AlgRS256, jwkset.UseSig))
	cfg := s.config()
	cfg.JWKSUnknownKIDInterval = -1
	a := newJWT(t, cfg)
	before := s.fetches.Load()
	tok := sign(t, jwt.SigningMethodRS256, rsaKey(), "k2", claims(nil))
	_, err := a.Authenticate(bearer(tok))
	checkErr(t, err, tok, auth.ErrInvalidToken)
	if got := s.fetches.Load() - before; got != 0 {
		t.Fatalf("got %d fetches, want 0", got)
	}
}

// TestJWKSPeriodicRefresh revokes a key: the background refresh drops it,
// and Close stops the refreshing.
func TestJWKSPeriodicRefresh(t *testing.T) {
	s := newJWKSServer(t)
	s.publish(
		jwk(t, &rsaKey().PublicKey, "k1", jwkset.AlgRS256, jwkset.UseSig),
		jwk(t, &ecKey().PublicKey, "k2", jwkset.AlgES256, jwkset.UseSig),
	)
	cfg := s.config()
	cfg.JWKSRefreshInterval = 20 * time.Millisecond
	cfg.JWKSUnknownKIDInterval = -1
	a, err := auth.NewJWT(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	revoked := sign(t, jwt.SigningMethodRS256, rsaKey(), "k1", claims(nil))
	kept := sign(t, jwt.SigningMethodES256, ecKey(), "k2", claims(nil))
	if _, err := a.Authenticate(bearer(revoked)); err != nil {
		t.Fatalf("k1 before revocation: %v", err)
	}
	s.publish(jwk(t, &ecKey().PublicKey, "k2", jwkset.AlgES256, jwkset.UseSig))
	waitFor(t, "k1 to be refused", func() bool {
		_, err := a.Authenticate(bearer(revoked))
		return err != nil
	})
	if _, err := a.Authenticate(bearer(kept)); err != nil {
		t.Fatalf("k2 after revoking k1: %v", err)
	}

	// A failing refresh keeps the keys already held.
	s.setFail(true)
	failedFrom := s.fetches.Load()
	waitFor(t, "a failed refresh", func() bool { return s.fetches.Load() > failedFrom+1 })
	if _, err := a.Authenticate(bearer(kept)); err != nil {
		t.Fatalf("k2 while the JWKS endpoint fails: %v", err)
	}
	s.setFail(false)

	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a.Close() // idempotent
	after := s.fetches.Load()
	time.Sleep(100 * time.Millisecond)
	if got := s.fetches.Load(); got != after {
		t.Fatalf("got %d fetches after Close, want none", got-after)
	}
	if _, err := a.Authenticate(bearer(kept)); err != nil {
		t.Fatalf("k2 after Close: %v, want keys already fetched to verify", err)
	}
}

// TestJWKSFirstFetchFails starts while the identity provider is down: NewJWT
// succeeds, logs, and the keys arrive once it is back.
func TestJWKSFirstFetchFails(t *testing.T) {
	s := newJWKSServer(t)
	s.setFail(true)
	var logs syncBuffer
	cfg := s.config()
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	cfg.JWKSUnknownKIDInterval = 10 * time.Millisecond
	a := newJWT(t, cfg)
	if !strings.Contains(logs.String(), "jwks fetch failed") {
		t.Fatalf("got logs %q, want a failed fetch logged", logs.String())
	}

	tok := sign(t, jwt.SigningMethodRS256, rsaKey(), "k1", claims(nil))
	_, err := a.Authenticate(bearer(tok))
	checkErr(t, err, tok, auth.ErrInvalidToken)

	s.setFail(false)
	s.publish(jwk(t, &rsaKey().PublicKey, "k1", jwkset.AlgRS256, jwkset.UseSig))
	if _, err := a.Authenticate(bearer(tok)); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

// TestJWKSWithPEMAndSecret combines the three key sources.
func TestJWKSWithPEMAndSecret(t *testing.T) {
	s := newJWKSServer(t)
	s.publish(jwk(t, &rsaKey().PublicKey, "remote", jwkset.AlgRS256, jwkset.UseSig))
	cfg := s.config()
	cfg.Secret = secret
	cfg.PublicKeysPEM = pemPublic(t, &rsaKey2().PublicKey)
	cfg.JWKSUnknownKIDInterval = -1
	a := newJWT(t, cfg)
	for name, tok := range map[string]string{
		"HS256":              sign(t, jwt.SigningMethodHS256, secret, "", claims(nil)),
		"RS256 from JWKS":    sign(t, jwt.SigningMethodRS256, rsaKey(), "remote", claims(nil)),
		"RS256 from PEM":     sign(t, jwt.SigningMethodRS256, rsaKey2(), "", claims(nil)),
		"PEM key with a kid": sign(t, jwt.SigningMethodRS256, rsaKey2(), "unknown", claims(nil)),
	} {
		if _, err := a.Authenticate(bearer(tok)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestJWKSCloseStopsFetching checks that after Close an unknown kid fetches
// nothing.
func TestJWKSCloseStopsFetching(t *testing.T) {
	s := newJWKSServer(t)
	s.publish(jwk(t, &rsaKey().PublicKey, "k1", jwkset.AlgRS256, jwkset.UseSig))
	a, err := auth.NewJWT(s.config())
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	before := s.fetches.Load()
	tok := sign(t, jwt.SigningMethodRS256, rsaKey(), "k2", claims(nil))
	_, err = a.Authenticate(bearer(tok))
	checkErr(t, err, tok, auth.ErrInvalidToken)
	if got := s.fetches.Load() - before; got != 0 {
		t.Fatalf("got %d fetches after Close, want 0", got)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestJWKSConcurrent authenticates from many goroutines while the key set
// is refreshed underneath; run with -race.
func TestJWKSConcurrent(t *testing.T) {
	s := newJWKSServer(t)
	s.publish(jwk(t, &ecKey().PublicKey, "k1", jwkset.AlgES256, jwkset.UseSig))
	cfg := s.config()
	cfg.JWKSRefreshInterval = time.Millisecond
	cfg.JWKSUnknownKIDInterval = time.Millisecond
	a := newJWT(t, cfg)
	good := sign(t, jwt.SigningMethodES256, ecKey(), "k1", claims(nil))
	unknown := sign(t, jwt.SigningMethodES256, ecKey(), "k9", claims(nil))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if _, err := a.Authenticate(bearer(good)); err != nil {
					t.Errorf("known key: %v", err)
					return
				}
				if _, err := a.Authenticate(bearer(unknown)); err == nil {
					t.Error("unknown kid accepted")
					return
				}
			}
		})
	}
	wg.Wait()
}
