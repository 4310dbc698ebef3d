package ssehttp

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

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
	// The API documents, served by package apidoc.
	PathOpenAPI  = "/api/openapi.json"
	PathAsyncAPI = "/api/asyncapi.json"
)

// Mount registers every handler of the package on mux at the default
// paths. Embedders that want other paths register the New…Handler
// functions themselves.
func Mount(mux *http.ServeMux, cfg Config) {
	cfg = cfg.withDefaults()
	mux.Handle(PathStream, streamGate(cfg, NewStreamHandler(cfg)))
	mux.Handle(PathSubscriptions, NewSubscriptionsHandler(cfg))
	mux.Handle(PathStats, NewStatsHandler(cfg))
	mux.Handle(PathPublish, NewPublishHandler(cfg))
	mux.Handle(PathDisable, NewAdminHandler(cfg, true))
	mux.Handle(PathEnable, NewAdminHandler(cfg, false))
	mux.Handle(PathConnections, NewConnectionsHandler(cfg))
	mux.Handle(PathHealth, NewHealthHandler())
	mux.Handle(PathReady, NewReadyHandler(cfg.Hub))
}

// streamGate refuses, before the stream handler parses anything, what a
// stream cannot be: an HTTP/1.0 request (505: a stream of unknown length
// needs chunked encoding or HTTP/2) and a channels= list of more names
// than cfg.MaxChannels, counted by its commas (400). It answers HEAD of
// the stream itself, as a GET would begin but without registering a
// connection: a HEAD never counts against a limit nor evicts a stream. It
// checks the token and whether streaming is on.
func streamGate(cfg Config, stream http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 1 && r.ProtoMinor == 0 {
			w.Header().Set("Connection", "close")
			WriteError(w, &Error{Status: http.StatusHTTPVersionNotSupported, Code: CodeHTTPVersion, Message: "a stream needs HTTP/1.1 or later"})
			return
		}
		n := 0
		for _, v := range r.URL.Query()["channels"] {
			n += strings.Count(v, ",") + 1
		}
		if n > cfg.MaxChannels {
			WriteError(w, &Error{Status: 400, Code: CodeInvalid, Field: "channels", Message: fmt.Sprintf("at most %d channels per connection", cfg.MaxChannels)})
			return
		}
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
