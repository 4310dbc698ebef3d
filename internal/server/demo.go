package server

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/internal/server/demo"
)

// mountDemo serves the demo app and dashboard in dev mode. ctx ends when
// the server shuts down; anything started here stops with it.
func mountDemo(ctx context.Context, mux *http.ServeMux, cfg Config, h *hub.Hub, log *slog.Logger) {
	log = log.With("component", "demo")
	dc := demo.Config{
		Hub: h, TenantClaim: cfg.TenantClaim, Issuer: cfg.Issuer, Audience: cfg.Audience, Logger: log,
	}
	if cfg.JWTSecret != "" {
		dc.Secret = []byte(cfg.JWTSecret)
	} else {
		log.Warn("demo sign-in is off: it needs an HS256 secret (--jwt-secret)")
	}
	d, err := demo.New(dc)
	if err != nil {
		log.Error("demo not mounted", "err", err)
		return
	}
	d.Register(mux)
	go d.Run(ctx) // returns when ctx is done
}
