// Command peer-r3labs serves github.com/r3labs/sse/v2 (one stream, no
// auto-replay) behind the bench endpoints; see package peer.
package main

import (
	"net/http"

	sse "github.com/r3labs/sse/v2"

	"github.com/ssehub/ssehub/bench/internal/peer"
)

func main() {
	srv := sse.New()
	// AutoReplay keeps every event forever to replay it to each new
	// subscriber; the other servers keep no history, so it is off.
	srv.AutoReplay = false
	srv.CreateStream("bench")
	stream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		q.Set("stream", "bench")
		r.URL.RawQuery = q.Encode()
		srv.ServeHTTP(w, r)
	})
	peer.Main("peer-r3labs", stream, func(id, event string, data []byte) error {
		srv.Publish("bench", &sse.Event{ID: []byte(id), Event: []byte(event), Data: data})
		return nil
	})
}
