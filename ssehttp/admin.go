package ssehttp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/hub"
)

// NewSubscriptionsHandler returns the handler of POST
// /api/sse/subscriptions, which changes the channels of one of the caller's
// live connections: {"connectionId","subscribe":[…],"unsubscribe":[…]} →
// 200 {"connectionId","channels":[…]}.
func NewSubscriptionsHandler(cfg Config) http.Handler {
	cfg = cfg.withDefaults()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowMethod(w, r, http.MethodPost) {
			return
		}
		id, err := cfg.Authenticator.Authenticate(r)
		if err != nil {
			WriteError(w, err)
			return
		}
		var req struct {
			ConnectionID string   `json:"connectionId"`
			Subscribe    []string `json:"subscribe"`
			Unsubscribe  []string `json:"unsubscribe"`
		}
		if err := decodeStrict(w, r, cfg.MaxBodyBytes, &req); err != nil {
			WriteError(w, err)
			return
		}
		if err := checkConnID(req.ConnectionID, true); err != nil {
			WriteError(w, err)
			return
		}
		if len(req.Subscribe) > cfg.MaxChannels || len(req.Unsubscribe) > cfg.MaxChannels {
			WriteError(w, &Error{Status: 400, Code: CodeInvalid, Message: fmt.Sprintf("at most %d channels per request", cfg.MaxChannels)})
			return
		}
		for _, ch := range req.Subscribe {
			if err := hub.ValidateChannel(ch); err != nil {
				WriteError(w, err)
				return
			}
			if err := cfg.Authorizer.AuthorizeChannel(r.Context(), id, ch); err != nil {
				WriteError(w, err)
				return
			}
		}
		chans, err := cfg.Hub.UpdateChannels(r.Context(), hub.ConnID(req.ConnectionID), id.TenantID, id.UserID, req.Subscribe, req.Unsubscribe)
		if err != nil {
			WriteError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"connectionId": req.ConnectionID, "channels": chans})
	})
}

// MaxConnIDLen caps a connection id a request names. The hub's ids are
// the node id, a dot and 10 characters.
const MaxConnIDLen = 128

// checkConnID refuses a connection id that no hub can have made, before
// it is looked up (and maybe sent to every node of a cluster).
func checkConnID(id string, required bool) error {
	field := "connectionId"
	if !required {
		field = "excludeConnectionId"
	}
	switch {
	case id == "" && required:
		return &Error{Status: 400, Code: CodeInvalid, Message: field + " is required", Field: field}
	case len(id) > MaxConnIDLen:
		return &Error{Status: 400, Code: CodeInvalid, Message: fmt.Sprintf("%s: at most %d bytes", field, MaxConnIDLen), Field: field}
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f {
			return &Error{Status: 400, Code: CodeInvalid, Message: field + ": printable ASCII only", Field: field}
		}
	}
	return nil
}

func decodeStrict(w http.ResponseWriter, r *http.Request, maxBody int64, v any) error {
	if !isJSON(r.Header.Get("Content-Type")) {
		return &Error{Status: 415, Code: CodeUnsupportedMedia, Message: "send Content-Type: application/json"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return readBodyError(err, maxBody)
	}
	dec := json.NewDecoder(bytesReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &Error{Status: 400, Code: CodeMalformed, Message: "malformed JSON: " + err.Error()}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &Error{Status: 400, Code: CodeMalformed, Message: "malformed JSON: unexpected data after the JSON value"}
	}
	return nil
}

// requireAdmin authenticates r and checks the admin role of a global
// token: these endpoints act on every tenant.
func requireAdmin(cfg Config, w http.ResponseWriter, r *http.Request) bool {
	id, ok := requireTenantAdmin(cfg, w, r)
	if ok && !id.Global {
		WriteError(w, fmt.Errorf("%w: acts on every tenant, so needs a global token (%q: true)", auth.ErrForbidden, auth.GlobalClaim))
		return false
	}
	return ok
}

// requireTenantAdmin authenticates r and checks the admin role; the
// caller keeps an identity that is not global inside its tenant.
func requireTenantAdmin(cfg Config, w http.ResponseWriter, r *http.Request) (auth.Identity, bool) {
	id, err := cfg.Authenticator.Authenticate(r)
	if err == nil && !id.HasRole(auth.RoleAdmin) {
		err = fmt.Errorf("%w: needs the admin role", auth.ErrForbidden)
	}
	if err != nil {
		WriteError(w, err)
		return id, false
	}
	return id, true
}

// NewStatsHandler returns the handler of GET /api/sse/stats (admin).
func NewStatsHandler(cfg Config) http.Handler {
	cfg = cfg.withDefaults()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowMethod(w, r, http.MethodGet) {
			return
		}
		if !requireAdmin(cfg, w, r) {
			return
		}
		writeJSON(w, http.StatusOK, cfg.Hub.ClusterStats(r.Context()))
	})
}

// NewAdminHandler returns the handler of POST /api/admin/sse/disable (when
// disable is true) or /enable (admin). Disabling closes every stream with
// sse:disabled and answers new ones 503 sse_disabled. The answer,
// {"disabled"}, is this node's state after the change: a disable with a
// later version from another node keeps an enable from taking effect.
func NewAdminHandler(cfg Config, disable bool) http.Handler {
	cfg = cfg.withDefaults()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowMethod(w, r, http.MethodPost) {
			return
		}
		if !requireAdmin(cfg, w, r) {
			return
		}
		cfg.Hub.SetDisabled(disable)
		// The state in force, which a later change from another node may
		// have kept from being what was asked.
		writeJSON(w, http.StatusOK, map[string]bool{"disabled": cfg.Hub.Disabled()})
	})
}

// NewHealthHandler answers GET /healthz: 200 while the process serves;
// other methods than GET and HEAD get 405.
func NewHealthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowMethod(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// NewReadyHandler answers GET /readyz: 200 when the hub accepts connections
// and its broker answers, 503 otherwise; other methods than GET and HEAD
// get 405.
func NewReadyHandler(h *hub.Hub) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowMethod(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if hl := h.Health(ctx, 0); hl.Err != nil {
			WriteError(w, hl.Err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}
