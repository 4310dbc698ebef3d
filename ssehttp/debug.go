package ssehttp

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/hub"
)

// PathConnections is the default path of NewConnectionsHandler.
const PathConnections = "/api/admin/sse/connections"

// NewConnectionsHandler returns the handler of GET
// /api/admin/sse/connections?tenantId=&userId=&limit= (admin), which lists
// this node's live connections, oldest first: their channels, queue depth,
// last successful write and node. Without tenantId it lists every
// connection; userId needs tenantId, since user ids are scoped by tenant.
// limit caps the list (default 1000); the answer is
// {"node","total","connections":[…]} where total counts before the cap.
// In a cluster, ask each node.
func NewConnectionsHandler(cfg Config) http.Handler {
	cfg = cfg.withDefaults()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowMethod(w, r, http.MethodGet) {
			return
		}
		id, ok := requireTenantAdmin(cfg, w, r)
		if !ok {
			return
		}
		q := r.URL.Query()
		tenant, user := q.Get("tenantId"), q.Get("userId")
		if !id.InTenant(tenant) {
			WriteError(w, fmt.Errorf("%w: this token lists connections of tenant %q only (tenantId=%s)", auth.ErrForbidden, id.TenantID, id.TenantID))
			return
		}
		if user != "" && tenant == "" {
			WriteError(w, &Error{Status: 400, Code: CodeInvalid, Message: "userId needs tenantId", Field: "tenantId"})
			return
		}
		limit := 1000
		if s := q.Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 {
				WriteError(w, &Error{Status: 400, Code: CodeInvalid, Message: "limit must be a positive integer", Field: "limit"})
				return
			}
			limit = n
		}
		conns := cfg.Hub.Connections(tenant, user)
		total := len(conns)
		if len(conns) > limit {
			conns = conns[:limit]
		}
		writeJSON(w, http.StatusOK, struct {
			Node        string             `json:"node"`
			Total       int                `json:"total"`
			Connections []hub.ConnSnapshot `json:"connections"`
		}{cfg.Hub.NodeID(), total, conns})
	})
}
