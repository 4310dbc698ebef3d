package ssehttp

import (
	"bytes"
	"net/http"
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
	mux.Handle(PathStream, NewStreamHandler(cfg))
	mux.Handle(PathSubscriptions, NewSubscriptionsHandler(cfg))
	mux.Handle(PathStats, NewStatsHandler(cfg))
	mux.Handle(PathPublish, NewPublishHandler(cfg))
	mux.Handle(PathDisable, NewAdminHandler(cfg, true))
	mux.Handle(PathEnable, NewAdminHandler(cfg, false))
	mux.Handle(PathConnections, NewConnectionsHandler(cfg))
	mux.Handle(PathHealth, NewHealthHandler())
	mux.Handle(PathReady, NewReadyHandler(cfg.Hub))
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
