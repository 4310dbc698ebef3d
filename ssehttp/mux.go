package ssehttp

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/hub"
)

// The default paths, as in the API reference.
const (
	PathStream        = "/api/sse"
	PathSubscriptions = "/api/sse/subscriptions"
	PathStats         = "/api/sse/stats"
	PathPublish       = "/api/events"
	PathDisable       = "/api/admin/sse/disable"
	PathEnable        = "/api/admin/sse/enable"
	PathHealth        = "/healthz"
	PathReady         = "/readyz"
)

// Mount registers every handler of the package on mux at the default
// paths. Embedders that want other paths register the New…Handler
// functions themselves.
func Mount(mux *http.ServeMux, cfg Config) {
	cfg = cfg.withDefaults()
	mux.Handle(PathStream, headStream(cfg, NewStreamHandler(cfg)))
	mux.Handle(PathSubscriptions, NewSubscriptionsHandler(cfg))
	mux.Handle(PathStats, NewStatsHandler(cfg))
	mux.Handle(PathPublish, NewPublishHandler(cfg))
	mux.Handle(PathDisable, NewAdminHandler(cfg, true))
	mux.Handle(PathEnable, NewAdminHandler(cfg, false))
	mux.Handle(PathConnections, NewConnectionsHandler(cfg))
	mux.Handle(PathHealth, NewHealthHandler())
	mux.Handle(PathReady, NewReadyHandler(cfg.Hub))
}

// headStream answers HEAD of the stream itself, as a GET would begin but
// without registering a connection: a HEAD never counts against a limit
// nor evicts a stream. It checks the token and whether streaming is on.
func headStream(cfg Config, stream http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodHead {
			stream.ServeHTTP(w, r)
			return
		}
		id, err := cfg.Authenticator.Authenticate(r)
		if err == nil && id.TenantID == "" {
			err = fmt.Errorf("%w: a stream needs a token bound to a tenant", auth.ErrForbidden)
		}
		if err == nil && cfg.Hub.Disabled() {
			err = hub.ErrDisabled
		}
		if err != nil {
			WriteError(w, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/event-stream; charset=utf-8")
		h.Set("Cache-Control", "no-cache, no-transform")
		w.WriteHeader(http.StatusOK)
	})
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
