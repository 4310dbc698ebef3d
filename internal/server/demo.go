package server

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/ssehub/ssehub/hub"
)

// mountDemo serves the demo app and dashboard in dev mode. ctx ends when
// the server shuts down; anything started here stops with it.
func mountDemo(ctx context.Context, mux *http.ServeMux, cfg Config, h *hub.Hub, log *slog.Logger) {
}
