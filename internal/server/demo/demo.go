package demo

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"sync"
	"time"

	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/ssehttp"
)

// Config configures a Demo.
type Config struct {
	// Hub publishes the demo's events. It is required.
	Hub *hub.Hub
	// Secret signs the demo users' HS256 tokens; the stream endpoint must
	// accept them. Nil means sign-in is refused with 503 (a dev server
	// configured with public keys only), while the pages are still served.
	Secret []byte
	// TenantClaim, Issuer and Audience are put in the tokens as the
	// server's authenticator expects them. Empty means "tid", no "iss"
	// and no "aud".
	TenantClaim, Issuer, Audience string
	// TokenTTL is how long a demo token lasts; the page gets a new one
	// when it expires. Zero means 1 hour.
	TokenTTL time.Duration
	// Interval is how often Run publishes stats and presence. Zero means
	// 1 s.
	Interval time.Duration
	// Logger receives the demo's logs. Nil means silent.
	Logger *slog.Logger
}

// Demo serves the demo app, the dashboard and their endpoints.
type Demo struct {
	cfg    Config
	hub    *hub.Hub
	authn  *auth.JWT
	store  *store
	assets *assets
	log    *slog.Logger

	mu       sync.Mutex
	online   map[string]bool      // "tenant/user" → online, as Run last saw it
	lastSeen map[string]time.Time // "tenant/user" → when Run saw them go offline
	ticks    int                  // Run's ticks so far
}

// New returns a Demo for cfg.
func New(cfg Config) (*Demo, error) {
	if cfg.Hub == nil {
		return nil, errors.New("demo: nil hub")
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.Interval == 0 {
		cfg.Interval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Demo{cfg: cfg, hub: cfg.Hub, store: newStore(time.Now()), log: cfg.Logger, online: map[string]bool{}, lastSeen: map[string]time.Time{}}
	if len(cfg.Secret) > 0 {
		// The demo's own endpoints read the token from the Authorization
		// header only: no cookie, so no cross-site request can act for a
		// visitor.
		a, err := auth.NewJWT(auth.JWTConfig{
			Secret: cfg.Secret, TenantClaim: cfg.TenantClaim, Issuer: cfg.Issuer, Audience: cfg.Audience,
			CookieName: "-", QueryParam: "-",
		})
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		d.authn = a
	}
	a, err := loadAssets()
	if err != nil {
		return nil, err
	}
	d.assets = a
	return d, nil
}

// Register adds the pages (GET /, GET /dashboard, GET /assets/…) and the
// endpoints under /api/demo/ to mux.
func (d *Demo) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", d.assets.page)
	mux.HandleFunc("GET /dashboard", d.assets.page)
	mux.HandleFunc("GET /assets/{name}", d.assets.file)

	mux.HandleFunc("GET /api/demo/users", d.users)
	mux.HandleFunc("POST /api/demo/login", d.login)
	mux.HandleFunc("GET /api/demo/state", d.state)
	mux.HandleFunc("POST /api/demo/messages", d.sendMessage)
	mux.HandleFunc("POST /api/demo/typing", d.typing)
	mux.HandleFunc("POST /api/demo/invoices", d.createInvoice)
	mux.HandleFunc("POST /api/demo/nudges", d.nudge)
	mux.HandleFunc("POST /api/demo/announcements", d.announce)
}

// users answers the login page: the demo users and their tenants.
func (d *Demo) users(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"users": users})
}

// login mints a token for a demo user: {"user":"alice"} → {token, expiresAt, user}.
func (d *Demo) login(w http.ResponseWriter, r *http.Request) {
	var req struct {
		User string `json:"user"`
	}
	if !decode(w, r, &req) {
		return
	}
	u, ok := userByID(req.User)
	if !ok {
		ssehttp.WriteError(w, &ssehttp.Error{Status: 400, Code: ssehttp.CodeInvalid, Message: "unknown demo user", Field: "user"})
		return
	}
	if d.authn == nil {
		ssehttp.WriteError(w, &ssehttp.Error{Status: 503, Code: "demo_unavailable",
			Message: "the demo signs its tokens with an HS256 secret; this server has none (set --jwt-secret)"})
		return
	}
	c := auth.Claims{
		Subject: u.ID, TenantID: u.TenantID, TenantClaim: d.cfg.TenantClaim,
		Issuer: d.cfg.Issuer, Audience: d.cfg.Audience,
		Channels: []string{"conversation:*", "presence:*"},
	}
	if u.Admin {
		// The operator streams in tenant _ops and acts on every tenant:
		// the global claim says so explicitly.
		c.Channels, c.Roles, c.Global = []string{OpsChannel}, []string{auth.RoleAdmin}, true
	}
	tok, err := auth.Mint(d.cfg.Secret, c, d.cfg.TokenTTL)
	if err != nil {
		ssehttp.WriteError(w, err)
		return
	}
	d.log.Info("demo sign-in", "tenant_id", u.TenantID, "user_id", u.ID)
	writeJSON(w, http.StatusOK, map[string]any{
		"token": tok, "expiresAt": time.Now().Add(d.cfg.TokenTTL).UTC(), "user": u,
	})
}

// memberState is a tenant member as the state shows them.
type memberState struct {
	User
	Online bool `json:"online"`
}

type conversationState struct {
	Conversation
	Messages []Message `json:"messages"`
}

// state answers what a page shows when it loads, or after sse:reset: the
// user's tenant, its members with their presence, its conversations with
// their recent messages, and its invoices.
func (d *Demo) state(w http.ResponseWriter, r *http.Request) {
	u, t, ok := d.identify(w, r)
	if !ok {
		return
	}
	out := map[string]any{"user": u}
	if t != nil {
		msgs, invoices := d.store.snapshot(t.ID)
		convs := make([]conversationState, 0, len(t.Conversations))
		for _, c := range t.Conversations {
			convs = append(convs, conversationState{c, nonNil(msgs[c.ID])})
		}
		var ms []memberState
		d.mu.Lock()
		for _, m := range members(t.ID) {
			ms = append(ms, memberState{m, m.ID == u.ID || d.online[m.TenantID+"/"+m.ID]})
		}
		d.mu.Unlock()
		out["tenant"] = map[string]any{"id": t.ID, "name": t.Name, "currency": t.Currency, "customers": t.Customers}
		out["members"] = ms
		out["conversations"] = convs
		out["invoices"] = invoices
	}
	writeJSON(w, http.StatusOK, out)
}

// identify authenticates a request and returns its demo user and tenant
// (nil for the admin). It writes the error and returns false when the
// caller is not a demo user.
func (d *Demo) identify(w http.ResponseWriter, r *http.Request) (User, *Tenant, bool) {
	if d.authn == nil {
		ssehttp.WriteError(w, &ssehttp.Error{Status: 503, Code: "demo_unavailable", Message: "demo sign-in is not available on this server"})
		return User{}, nil, false
	}
	id, err := d.authn.Authenticate(r)
	if err != nil {
		ssehttp.WriteError(w, err)
		return User{}, nil, false
	}
	u, ok := findUser(id.TenantID, id.UserID)
	if !ok {
		ssehttp.WriteError(w, &ssehttp.Error{Status: 403, Code: ssehttp.CodeForbidden, Message: "not a demo user"})
		return User{}, nil, false
	}
	return u, findTenant(u.TenantID), true
}

// maxBody bounds the demo endpoints' request bodies.
const maxBody = 16 << 10

// decode reads a JSON request body into v, refusing unknown fields. It
// writes the error and returns false when it cannot.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		ssehttp.WriteError(w, &ssehttp.Error{Status: 415, Code: ssehttp.CodeUnsupportedMedia, Message: "send application/json"})
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			ssehttp.WriteError(w, err)
			return false
		}
		ssehttp.WriteError(w, &ssehttp.Error{Status: 400, Code: ssehttp.CodeMalformed, Message: "malformed JSON: " + err.Error()})
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
