// Package ssehttp is ssehub's HTTP API: plain http.Handlers for the event
// stream (GET /api/sse), publishing (POST /api/events), subscription
// changes, stats, admin disable/enable and connection listing, health and
// readiness, CORS, and the one function that turns errors into a status
// code and a JSON body ({"error":{"code","message"}}): [WriteError].
//
// Every handler takes the same [Config] (a hub, an auth.Authenticator, an
// optional auth.Authorizer and limits). [Mount] registers them all at the
// default paths; embedders who want other paths register the
// New…Handler functions on any router.
//
// Plain HTTP/1.1 streams are taken over from net/http once the response
// head is written and handed to the hub's writers (see [Config]
// StandardStreams). On Linux the stream then leaves the net package too:
// the writers write a duplicate of the socket's descriptor with one
// non-blocking write(2), and one epoll instance reports hang-ups. An idle
// stream costs about 0.7 KiB of Go memory instead of about 28 KiB on the
// standard path. HTTP/2 and TLS streams use the standard path.
//
// Handlers are safe for concurrent use.
//
// # Example
//
//	h, _ := hub.New(hub.Config{})
//	jwt, _ := auth.NewJWT(auth.JWTConfig{Secret: secret})
//	mux := http.NewServeMux()
//	ssehttp.Mount(mux, ssehttp.Config{Hub: h, Authenticator: jwt})
//	http.ListenAndServe("127.0.0.1:8080", mux)
package ssehttp
