package ssehttp

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CORSConfig configures NewCORSHandler. The zero value allows no origin.
type CORSConfig struct {
	// Origins may call the wrapped handlers from a browser, each written
	// scheme://host[:port] (https://app.example.com). Responses to them
	// allow credentials (cookies, EventSource's withCredentials). "*" alone
	// allows every origin without credentials: the Authorization header
	// still works, the cookie does not. Empty means no cross-origin access.
	Origins []string
	// Paths limits CORS to these exact request paths, such as PathStream,
	// PathPublish and PathSubscriptions. Empty means every path.
	Paths []string
	// MaxAge is how long a browser may cache a preflight answer. Zero
	// means 10 minutes.
	MaxAge time.Duration
}

// The CORS headers and methods ssehub allows: what its clients send.
const (
	corsAllowHeaders  = "Authorization, Content-Type, Last-Event-ID"
	corsAllowMethods  = "GET, POST"
	corsExposeHeaders = "Retry-After"
)

// ParseOrigins splits a comma-separated list of origins, as given to
// --cors-origins, and validates it. The empty string means none.
func ParseOrigins(s string) ([]string, error) {
	var out []string
	for o := range strings.SplitSeq(s, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out, CORSConfig{Origins: out}.Validate()
}

// Validate reports malformed origins: each must be "*" alone or a
// scheme://host[:port] with scheme http or https and nothing after.
func (c CORSConfig) Validate() error {
	var errs []error
	for _, o := range c.Origins {
		if o == "*" {
			if len(c.Origins) > 1 {
				errs = append(errs, errors.New(`"*" must be the only origin`))
			}
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "/") {
			errs = append(errs, fmt.Errorf("origin %q: want scheme://host[:port], like https://app.example.com, with no path", o))
		}
	}
	if c.MaxAge < 0 {
		errs = append(errs, errors.New("MaxAge must not be negative"))
	}
	return errors.Join(errs...)
}

// NewCORSHandler returns next wrapped with CORS for browsers on other
// origins. On the configured paths it answers preflights (OPTIONS with
// Access-Control-Request-Method) itself: 204 with the allowed methods (GET,
// POST), headers (Authorization, Content-Type, Last-Event-ID) and max age,
// or 403 when the origin is not allowed. Other requests from an allowed
// origin get Access-Control-Allow-Origin (the origin itself, with
// Access-Control-Allow-Credentials, unless the configuration is "*") and
// Retry-After exposed to scripts; requests from other origins pass
// through without CORS headers, so the browser withholds the response.
// Every response on those paths carries Vary: Origin. With no origins it
// returns next. It panics when cfg is invalid: call Validate first.
func NewCORSHandler(cfg CORSConfig, next http.Handler) http.Handler {
	if err := cfg.Validate(); err != nil {
		panic("ssehttp: CORSConfig: " + err.Error())
	}
	if len(cfg.Origins) == 0 {
		return next
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = 10 * time.Minute
	}
	c := &cors{next: next, any: cfg.Origins[0] == "*", paths: cfg.Paths,
		maxAge: strconv.Itoa(int(cfg.MaxAge.Seconds())), origins: map[string]bool{}}
	for _, o := range cfg.Origins {
		c.origins[strings.ToLower(o)] = true
	}
	return c
}

type cors struct {
	next    http.Handler
	any     bool
	origins map[string]bool
	paths   []string
	maxAge  string
}

func (c *cors) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if len(c.paths) > 0 && !slices.Contains(c.paths, r.URL.Path) {
		c.next.ServeHTTP(w, r)
		return
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if preflight {
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	allowed := origin != "" && (c.any || c.origins[strings.ToLower(origin)])
	switch {
	case origin == "":
		c.next.ServeHTTP(w, r)
		return
	case !allowed && preflight:
		WriteError(w, &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: "origin not allowed"})
		return
	case !allowed:
		c.next.ServeHTTP(w, r)
		return
	}
	if c.any {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if preflight {
		h.Set("Access-Control-Allow-Methods", corsAllowMethods)
		h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		h.Set("Access-Control-Max-Age", c.maxAge)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
	c.next.ServeHTTP(w, r)
}
