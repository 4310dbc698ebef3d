// Command peer-gosse serves github.com/tmaxmax/go-sse (its Joe provider,
// no replay) behind the bench endpoints; see package peer.
package main

import (
	"net/http"

	sse "github.com/tmaxmax/go-sse"

	"github.com/ssehub/ssehub/bench/internal/peer"
)

func main() {
	srv := &sse.Server{
		// go-sse writes the response head with the first event; flush it
		// at once, as the other servers do, so a client knows the stream
		// is open.
		OnSession: func(w http.ResponseWriter, _ *http.Request) ([]string, bool) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.Header().Set("Cache-Control", "no-cache")
			w.WriteHeader(http.StatusOK)
			_ = http.NewResponseController(w).Flush()
			return []string{sse.DefaultTopic}, true
		},
	}
	peer.Main("peer-gosse", srv, func(id, event string, data []byte) error {
		m := &sse.Message{ID: sse.ID(id), Type: sse.Type(event)}
		m.AppendData(string(data))
		return srv.Publish(m)
	})
}
