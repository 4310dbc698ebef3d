// Command peer-nethttp is the idiomatic hand-written SSE server: a net/http
// handler per client that loops on its own channel, and a registry that a
// publish walks under a mutex. It is the baseline of the comparison; see
// package peer for the endpoints.
package main

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/ssehub/ssehub/bench/internal/peer"
)

type registry struct {
	mu      sync.Mutex
	clients map[chan []byte]struct{}
}

func main() {
	reg := &registry{clients: map[chan []byte]struct{}{}}
	stream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fl, ok := w.(http.Flusher)
		if !ok {
			http.Error(w, "streaming unsupported", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		fl.Flush()
		ch := make(chan []byte, 64)
		reg.mu.Lock()
		reg.clients[ch] = struct{}{}
		reg.mu.Unlock()
		defer func() {
			reg.mu.Lock()
			delete(reg.clients, ch)
			reg.mu.Unlock()
		}()
		for {
			select {
			case b := <-ch:
				if _, err := w.Write(b); err != nil {
					return
				}
				fl.Flush()
			case <-r.Context().Done():
				return
			}
		}
	})
	peer.Main("peer-nethttp", stream, func(id, event string, data []byte) error {
		frame := fmt.Appendf(nil, "id: %s\nevent: %s\ndata: %s\n\n", id, event, data)
		reg.mu.Lock()
		defer reg.mu.Unlock()
		for ch := range reg.clients {
			select {
			case ch <- frame:
			default: // a client 64 events behind misses events (the load tool counts them)
			}
		}
		return nil
	})
}
