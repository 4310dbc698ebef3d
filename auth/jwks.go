package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

const (
	defaultJWKSRefresh    = time.Hour
	defaultJWKSUnknownKID = 5 * time.Minute
	// jwksFetchTimeout bounds one fetch of the key set.
	jwksFetchTimeout = 10 * time.Second
	// jwksRetryDelay is the longest wait before fetching again after a
	// failed fetch, or while the key set is empty.
	jwksRetryDelay = 30 * time.Second
)

// Log keys.
const (
	logKeyURL   = "jwks_url"
	logKeyError = "error"
)

// jwks holds the keys of a remote JWK Set and keeps them fresh.
//
// Each refresh builds a new keyfunc.Keyfunc from a fresh fetch and swaps it
// in, so the refresh loop is our own goroutine, stopped and waited for by
// close. Between refreshes, a token with an unknown "kid" makes the current
// keyfunc fetch the set again (keyfunc's refresh-on-unknown-kid), at most once
// per unknownKID interval, which is how a rotated-in key is picked up at once.
type jwks struct {
	url      string
	client   *http.Client
	interval time.Duration
	limiter  *rate.Limiter // nil: no refresh on an unknown kid
	log      *slog.Logger

	kf atomic.Pointer[keyfunc.Keyfunc]

	ctx    context.Context // canceled by close
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// validJWKSURL reports whether u can be fetched as a key set.
func validJWKSURL(u string) error {
	p, err := url.Parse(u)
	if err != nil {
		return fmt.Errorf("auth: JWKSURL: %w", err)
	}
	if (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
		return errors.New("auth: JWKSURL must be an absolute http or https URL")
	}
	return nil
}

// startJWKS fetches the key set once and starts the refresh loop. A failed
// first fetch is logged, not returned: the loop retries soon, and the
// server can start while the identity provider is briefly unreachable.
func startJWKS(cfg JWTConfig, log *slog.Logger) (*jwks, error) {
	if err := validJWKSURL(cfg.JWKSURL); err != nil {
		return nil, err
	}
	j := &jwks{
		url:      cfg.JWKSURL,
		client:   cfg.JWKSClient,
		interval: cfg.JWKSRefreshInterval,
		log:      log.With(logKeyURL, redactURL(cfg.JWKSURL)),
	}
	if j.interval <= 0 {
		j.interval = defaultJWKSRefresh
	}
	switch every := cfg.JWKSUnknownKIDInterval; {
	case every == 0:
		j.limiter = rate.NewLimiter(rate.Every(defaultJWKSUnknownKID), 1)
	case every > 0:
		j.limiter = rate.NewLimiter(rate.Every(every), 1)
	}
	j.ctx, j.cancel = context.WithCancel(context.Background())
	kf, err := j.fetch(true)
	if err != nil {
		j.cancel()
		return nil, err
	}
	j.kf.Store(&kf)
	j.wg.Go(j.run)
	return j, nil
}

// fetch builds a keyfunc over a freshly fetched key set. With tolerant, a
// failed fetch yields an empty set that refreshes on the first unknown kid;
// otherwise it is an error.
func (j *jwks) fetch(tolerant bool) (keyfunc.Keyfunc, error) {
	store, err := jwkset.NewStorageFromHTTP(j.url, jwkset.HTTPClientStorageOptions{
		Client:                    j.client,
		Ctx:                       j.ctx,
		HTTPTimeout:               jwksFetchTimeout,
		NoErrorReturnFirstHTTPReq: tolerant,
		RefreshErrorHandler: func(_ context.Context, err error) {
			j.log.Warn("jwks fetch failed", logKeyError, oneLine(err))
		},
		// RefreshInterval stays zero: no goroutine of jwkset's own.
	})
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS: %s", oneLine(err))
	}
	client, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs:          map[string]jwkset.Storage{j.url: store},
		RateLimitWaitMax:  jwksFetchTimeout,
		RefreshUnknownKID: j.limiter,
	})
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS: %s", oneLine(err))
	}
	return keyfunc.New(keyfunc.Options{
		Ctx:     j.ctx,
		Storage: client,
		// Keys marked for encryption never verify a signature.
		UseWhitelist: []jwkset.USE{jwkset.UseSig, ""},
	})
}

// run refreshes the key set every interval until close, sooner after a
// failure or while the set is empty.
func (j *jwks) run() {
	failed := false
	for {
		delay := j.interval
		if failed || j.empty() {
			delay = min(delay, jwksRetryDelay)
		}
		timer := time.NewTimer(delay)
		select {
		case <-j.ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		kf, err := j.fetch(false)
		if err != nil {
			if j.ctx.Err() != nil {
				return
			}
			j.log.Warn("jwks refresh failed, keeping the previous keys", logKeyError, err)
			failed = true
			continue
		}
		j.kf.Store(&kf)
		failed = false
	}
}

func (j *jwks) empty() bool {
	keys, err := (*j.kf.Load()).Storage().KeyReadAll(j.ctx)
	return err != nil || len(keys) == 0
}

// close stops the refresh loop and waits for it. It is idempotent.
func (j *jwks) close() {
	j.cancel()
	j.wg.Wait()
}

// keys returns the keys of the set that may verify t, signed with alg.
// Unknown kids trigger a rate-limited refetch, bounded by ctx.
func (j *jwks) keys(ctx context.Context, t *jwt.Token, alg string) ([]jwt.VerificationKey, error) {
	if j.ctx.Err() != nil {
		// Closed: the keys already fetched still verify, but jwkset would
		// refetch on an unknown kid with the request's context (seen once
		// under load); with the canceled one it cannot.
		ctx = j.ctx
	}
	got, err := (*j.kf.Load()).KeyfuncCtx(ctx)(t)
	if err != nil {
		if errors.Is(err, jwkset.ErrKeyNotFound) {
			return nil, errors.New(`no key in the JWK Set has the token's "kid"`)
		}
		return nil, fmt.Errorf("JWK Set: %s", oneLine(err))
	}
	var keys []jwt.VerificationKey
	switch v := got.(type) {
	case jwt.VerificationKeySet:
		for _, k := range v.Keys {
			if keyFits(alg, k) {
				keys = append(keys, k)
			}
		}
	default:
		if keyFits(alg, v) {
			keys = append(keys, v)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no %s key in the JWK Set", alg)
	}
	return keys, nil
}

// redactURL hides a password in u, for logs.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "invalid URL"
	}
	return p.Redacted()
}

// oneLine flattens the multi-line messages of errors.Join.
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
