// Package peer is the common frame of the bench servers: each serves one
// SSE library behind the same two endpoints as ssehub, so that one load
// tool drives them all:
//
//	GET  /api/sse     the event stream (any Authorization is ignored)
//	POST /api/events  {"event","data",target:{"broadcast":true}} → 202 {"id"}
//
// Only broadcast is served: it is the workload the peers are compared on.
// Event ids are decimal and increase by one per event.
package peer

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// PublishFunc sends one event with the given id to every subscriber.
type PublishFunc func(id, event string, data []byte) error

// Main parses --addr, serves stream at /api/sse and publish at
// /api/events until SIGTERM or SIGINT, and exits.
func Main(name string, stream http.Handler, publish PublishFunc) {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()
	mux := http.NewServeMux()
	mux.Handle("/api/sse", stream)
	mux.Handle("/api/events", PublishHandler(publish))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	if err := Serve(*addr, mux); err != nil {
		log.Fatalf("%s: %v", name, err)
	}
}

// Serve runs an http.Server configured as ssehub's (no write timeout, a
// header timeout) until SIGTERM or SIGINT.
func Serve(addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Close() // streams never end by themselves: close, don't drain
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type publishRequest struct {
	Event  string          `json:"event"`
	Data   json.RawMessage `json:"data"`
	Target struct {
		Broadcast bool `json:"broadcast"`
	} `json:"target"`
}

// PublishHandler decodes ssehub's publish body and calls publish with the
// next id. Publishes are serialized so that ids reach clients in order.
func PublishHandler(publish PublishFunc) http.Handler {
	var mu sync.Mutex
	var seq uint64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		var req publishRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if !req.Target.Broadcast || req.Event == "" || len(req.Data) == 0 {
			http.Error(w, "only {event, data, target:{broadcast:true}} is served", http.StatusBadRequest)
			return
		}
		mu.Lock()
		seq++
		id := strconv.FormatUint(seq, 10)
		err := publish(id, req.Event, req.Data)
		mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"id":%q}`+"\n", id)
	})
}
