// Command embedded shows ssehub inside an existing Go web service: the
// stream and publish endpoints mounted on the service's own mux, and typed
// events emitted from its handlers.
//
//	go run ./examples/embedded
//	curl -N -H "Authorization: Bearer $(go run ./cmd/ssehub token --jwt-secret "$SECRET" --sub u1 --tenant acme)" localhost:8081/api/sse
//	curl -X POST localhost:8081/invoices -d '{"id":"inv-1","amount":42}'
package main

import (
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ssehub/ssehub"
	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/ssehttp"
)

// Invoice is the payload of the invoice:created event.
type Invoice struct {
	ID     string  `json:"id"`
	Amount float64 `json:"amount"`
}

// InvoiceCreated is declared once; Emit accepts only an Invoice for it.
var InvoiceCreated = ssehub.Define[Invoice]("invoice:created")

func main() {
	secret := os.Getenv("SECRET")
	if len(secret) < 32 {
		log.Fatal("set SECRET to at least 32 characters (the same secret mints the tokens)")
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	h, err := hub.New(hub.Config{Logger: logger})
	if err != nil {
		log.Fatal(err)
	}
	jwt, err := auth.NewJWT(auth.JWTConfig{Secret: []byte(secret)})
	if err != nil {
		log.Fatal(err)
	}
	defer jwt.Close()

	mux := http.NewServeMux()
	ssehttp.Mount(mux, ssehttp.Config{Hub: h, Authenticator: jwt, Logger: logger})

	// The service's own endpoint: creating an invoice notifies its tenant.
	mux.HandleFunc("POST /invoices", func(w http.ResponseWriter, r *http.Request) {
		var inv Invoice
		if err := json.NewDecoder(r.Body).Decode(&inv); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		id, err := ssehub.Emit(r.Context(), h, InvoiceCreated, inv, ssehub.ToTenant("acme"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]string{"eventId": id})
	})

	srv := &http.Server{Addr: "127.0.0.1:8081", Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		go func() { _ = h.Shutdown(sctx) }() // sends sse:shutdown to every stream
		_ = srv.Shutdown(sctx)
	}()
	logger.Info("listening", "addr", srv.Addr)
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
