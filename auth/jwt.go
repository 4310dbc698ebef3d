package auth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Defaults of JWTConfig.
const (
	defaultTenantClaim = "tid"
	defaultCookieName  = "ssehub_token"
	defaultQueryParam  = "access_token"
)

// maxTokenLen caps the length of a token; longer ones are refused before
// any parsing.
const maxTokenLen = 16 << 10

// reservedClaims cannot be used as the tenant claim.
var reservedClaims = []string{"sub", "iss", "aud", "exp", "nbf", "iat", "jti", "channels", "roles", GlobalClaim}

// JWTConfig configures the [JWT] authenticator. At least one key source
// (Secret, PublicKeysPEM or JWKSURL) must be set; they may be combined, and a
// token is then accepted when any key of the kind its "alg" names verifies it.
type JWTConfig struct {
	// Secret is the HS256 key, at least [MinSecretLen] bytes long. Nil means
	// HS256 tokens are refused.
	Secret []byte
	// PublicKeysPEM holds one or more PEM blocks of type "PUBLIC KEY",
	// "RSA PUBLIC KEY" or "CERTIFICATE". RSA keys (at least 2048 bits)
	// verify RS256 tokens and ECDSA P-256 keys verify ES256 tokens. Nil means
	// none.
	PublicKeysPEM []byte
	// JWKSURL is the http(s) URL of a JWK Set whose RSA and P-256 keys verify
	// RS256 and ES256 tokens. The set is fetched by NewJWT and then in the
	// background until [JWT.Close]. A failed first fetch does not fail
	// NewJWT: it is logged and retried within 30 s. Empty means no JWK Set.
	JWKSURL string
	// JWKSRefreshInterval is how often the JWK Set is fetched again. Zero
	// means 1 hour.
	JWKSRefreshInterval time.Duration
	// JWKSUnknownKIDInterval is the least time between the extra fetches
	// made when a token names a "kid" that is not in the set, which is how a
	// newly rotated key is accepted at once. Zero means 5 minutes; negative
	// disables these fetches.
	JWKSUnknownKIDInterval time.Duration
	// JWKSClient fetches the JWK Set; each fetch is also bounded by 10 s. Nil
	// means [http.DefaultClient].
	JWKSClient *http.Client

	// TenantClaim names the claim that holds the tenant id. Empty means
	// "tid".
	TenantClaim string
	// DefaultTenant is the tenant of a token without the tenant claim, for
	// single-tenant deployments. Empty means such a token is refused with
	// [ErrInvalidToken] unless it carries "global": true ([GlobalClaim]);
	// that identity then has an empty TenantID. A tenant claim that is
	// present is always a non-empty string, or the token is refused.
	DefaultTenant string
	// CookieName is the cookie read when the request has neither an
	// Authorization header nor the query parameter. Empty means
	// "ssehub_token"; "-" disables cookies.
	CookieName string
	// QueryParam is the query parameter read when the request has no
	// Authorization header (EventSource cannot set headers). Empty means
	// "access_token"; "-" disables it.
	QueryParam string

	// Issuer, when set, must equal the token's "iss".
	Issuer string
	// Audience, when set, must be one of the token's "aud".
	Audience string
	// Leeway is the clock skew allowed when checking "exp", "nbf" and "iat".
	// Zero means none.
	Leeway time.Duration
	// RequireExpiry refuses tokens without "exp". False accepts them, as
	// long-lived publisher tokens commonly are; their identity has a zero
	// ExpiresAt.
	RequireExpiry bool

	// Logger receives JWK Set fetch failures. Nil means silent.
	Logger *slog.Logger
}

// Validate reports whether the configuration is usable, without fetching
// the JWK Set.
func (c JWTConfig) Validate() error {
	if c.Secret == nil && c.PublicKeysPEM == nil && c.JWKSURL == "" {
		return errors.New("auth: no key source: set Secret, PublicKeysPEM or JWKSURL")
	}
	if c.Secret != nil && len(c.Secret) < MinSecretLen {
		return fmt.Errorf("auth: Secret is %d bytes, want at least %d", len(c.Secret), MinSecretLen)
	}
	if c.PublicKeysPEM != nil {
		if _, err := parsePublicKeys(c.PublicKeysPEM); err != nil {
			return err
		}
	}
	if c.JWKSURL != "" {
		if err := validJWKSURL(c.JWKSURL); err != nil {
			return err
		}
	}
	if slices.Contains(reservedClaims, c.TenantClaim) {
		return fmt.Errorf("auth: TenantClaim %q is a reserved claim", c.TenantClaim)
	}
	if c.Leeway < 0 {
		return errors.New("auth: negative Leeway")
	}
	return nil
}

// JWT authenticates requests by a JSON Web Token. It is safe for concurrent
// use. Create it with [NewJWT]; when it fetches a JWK Set, call [JWT.Close]
// to stop the background refresh.
type JWT struct {
	parser        *jwt.Parser
	secret        []byte
	pem           pemKeys
	jwks          *jwks // nil without JWKSURL
	tenantClaim   string
	defaultTenant string
	cookieName    string // "" when disabled
	queryParam    string // "" when disabled
}

// NewJWT returns a JWT authenticator for cfg. It returns an error when cfg
// is invalid (see [JWTConfig.Validate]), notably when no key source is set.
//
// Only the algorithms of the configured key kinds are accepted: HS256 with
// Secret, RS256 with RSA keys, ES256 with P-256 keys; "none" and every other
// algorithm never are.
func NewJWT(cfg JWTConfig) (*JWT, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &JWT{
		secret:        slices.Clone(cfg.Secret),
		tenantClaim:   cmp.Or(cfg.TenantClaim, defaultTenantClaim),
		defaultTenant: cfg.DefaultTenant,
		cookieName:    option(cfg.CookieName, defaultCookieName),
		queryParam:    option(cfg.QueryParam, defaultQueryParam),
	}
	var methods []string
	if a.secret != nil {
		methods = append(methods, algHS256)
	}
	if cfg.PublicKeysPEM != nil {
		var err error
		if a.pem, err = parsePublicKeys(cfg.PublicKeysPEM); err != nil {
			return nil, err
		}
	}
	if len(a.pem.rsa) > 0 || cfg.JWKSURL != "" {
		methods = append(methods, algRS256)
	}
	if len(a.pem.ec) > 0 || cfg.JWKSURL != "" {
		methods = append(methods, algES256)
	}

	opts := []jwt.ParserOption{jwt.WithValidMethods(methods), jwt.WithLeeway(cfg.Leeway), jwt.WithIssuedAt()}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	if cfg.RequireExpiry {
		opts = append(opts, jwt.WithExpirationRequired())
	}
	a.parser = jwt.NewParser(opts...)

	if cfg.JWKSURL != "" {
		log := cfg.Logger
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		var err error
		if a.jwks, err = startJWKS(cfg, log); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Close stops the background refresh of the JWK Set and waits for it to
// end. It is idempotent and always returns nil. After Close, Authenticate
// still accepts tokens signed by keys already fetched, but fetches no more.
func (a *JWT) Close() error {
	if a.jwks != nil {
		a.jwks.close()
	}
	return nil
}

// Authenticate returns the identity of the token in r. The token is read
// from the "Authorization: Bearer" header, else from the query parameter,
// else from the cookie. It returns an error wrapping [ErrNoCredentials] when
// there is no token, and [ErrInvalidToken] (with [ErrTokenExpired] for an
// expired one) when the token is refused; error messages never contain the
// token.
//
// A token is accepted when its signature verifies with a configured key of
// the kind its "alg" names, "exp", "nbf", "iss" and "aud" check out, "sub" is
// a non-empty string, "iat" (when present) not later than now plus the
// leeway, the tenant claim (when present) a non-empty string,
// "global" (when present) a boolean, "channels" and "roles" arrays of
// strings, and it has a tenant or is global (see [JWTConfig.DefaultTenant]).
func (a *JWT) Authenticate(r *http.Request) (Identity, error) {
	raw, err := a.extract(r)
	if err != nil {
		return Identity{}, err
	}
	ctx := r.Context()
	if a.jwks != nil {
		// A fetch for an unknown kid ends with the request or with Close.
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(a.jwks.ctx, cancel)()
	}
	claims := jwt.MapClaims{}
	if _, err := a.parser.ParseWithClaims(raw, claims, a.keyfunc(ctx)); err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return Identity{}, errExpired
		}
		return Identity{}, fmt.Errorf("%w: %s", ErrInvalidToken, oneLine(err))
	}
	id, err := a.identity(claims)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	return id, nil
}

// extract finds the token in r.
func (a *JWT) extract(r *http.Request) (string, error) {
	if h := strings.TrimSpace(r.Header.Get("Authorization")); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Bearer") {
			tok = strings.TrimSpace(tok)
			if tok == "" {
				return "", fmt.Errorf("%w: empty bearer token", ErrInvalidToken)
			}
			return checkLen(tok)
		}
		// Another scheme (Basic at a proxy, say) is not ours: look further.
	}
	if a.queryParam != "" && r.URL != nil {
		if q := r.URL.Query(); q.Has(a.queryParam) {
			tok := strings.TrimSpace(q.Get(a.queryParam))
			if tok == "" {
				return "", fmt.Errorf("%w: empty %s parameter", ErrInvalidToken, a.queryParam)
			}
			return checkLen(tok)
		}
	}
	if a.cookieName != "" {
		// An empty cookie is what a logout leaves behind: no credentials.
		if c, err := r.Cookie(a.cookieName); err == nil && c.Value != "" {
			return checkLen(c.Value)
		}
	}
	return "", ErrNoCredentials
}

func checkLen(tok string) (string, error) {
	if len(tok) > maxTokenLen {
		return "", fmt.Errorf("%w: token longer than %d bytes", ErrInvalidToken, maxTokenLen)
	}
	return tok, nil
}

// keyfunc returns the keys that may verify a token, chosen by its "alg";
// the parser has already refused any alg outside the configured ones.
func (a *JWT) keyfunc(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		alg := t.Method.Alg()
		var keys []jwt.VerificationKey
		switch alg {
		case algHS256:
			if a.secret == nil {
				return nil, errors.New("no HS256 secret")
			}
			return a.secret, nil
		case algRS256:
			keys = slices.Clone(a.pem.rsa)
		case algES256:
			keys = slices.Clone(a.pem.ec)
		default:
			return nil, fmt.Errorf("algorithm %q not accepted", alg)
		}
		if a.jwks != nil {
			more, err := a.jwks.keys(ctx, t, alg)
			if err != nil && len(keys) == 0 {
				return nil, err
			}
			keys = append(keys, more...)
		}
		if len(keys) == 0 {
			return nil, fmt.Errorf("no %s key", alg)
		}
		return jwt.VerificationKeySet{Keys: keys}, nil
	}
}

// identity reads the identity from verified claims.
func (a *JWT) identity(c jwt.MapClaims) (Identity, error) {
	var id Identity
	var err error
	if id.UserID, err = stringClaim(c, "sub"); err != nil {
		return Identity{}, err
	}
	if id.UserID == "" {
		return Identity{}, errors.New(`missing "sub" claim`)
	}
	if v, ok := c[a.tenantClaim]; ok {
		s, isString := v.(string)
		if !isString || s == "" {
			return Identity{}, fmt.Errorf("%q (tenant) claim must be a non-empty string", a.tenantClaim)
		}
		id.TenantID = s
	}
	if v, ok := c[GlobalClaim]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return Identity{}, fmt.Errorf("%q claim must be true or false", GlobalClaim)
		}
		id.Global = b
	}
	if id.Channels, err = stringsClaim(c, "channels"); err != nil {
		return Identity{}, err
	}
	if id.Roles, err = stringsClaim(c, "roles"); err != nil {
		return Identity{}, err
	}
	// The parser has validated "exp"; it is absent or a number.
	if exp, err := c.GetExpirationTime(); err == nil && exp != nil {
		id.ExpiresAt = exp.Time
	}
	if id.TenantID == "" {
		switch {
		case a.defaultTenant != "":
			id.TenantID = a.defaultTenant
		case !id.Global:
			return Identity{}, fmt.Errorf("missing %q (tenant) claim (a token for every tenant says %q: true)", a.tenantClaim, GlobalClaim)
		}
	}
	return id, nil
}

// stringClaim returns claim name, "" when absent or null.
func stringClaim(c jwt.MapClaims, name string) (string, error) {
	v, ok := c[name]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%q claim must be a string", name)
	}
	return s, nil
}

// stringsClaim returns claim name as a list of strings, nil when absent or
// null.
func stringsClaim(c jwt.MapClaims, name string) ([]string, error) {
	v, ok := c[name]
	if !ok || v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%q claim must be an array of strings", name)
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("%q claim must be an array of strings", name)
		}
		out = append(out, s)
	}
	return out, nil
}

// option returns v, def when v is empty, and "" when v is "-".
func option(v, def string) string {
	if v == "-" {
		return ""
	}
	return cmp.Or(v, def)
}
