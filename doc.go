// Package ssehub delivers typed events from a Go backend to browsers over
// Server-Sent Events.
//
// This package is the typed front door: [Define] declares an event name
// with its payload type, and [Emit] publishes a payload of exactly that
// type to a [Target] — a user, several users, a tenant, a channel or
// everyone — so a wrong payload does not compile. Underneath sit the
// sub-packages, each with one job:
//
//   - sse: the wire format (encoder, WHATWG-exact decoder)
//   - hub: the connection registry, fan-out, limits, heartbeat, resume
//   - broker: the ordered event log nodes share (in memory by default;
//     redisbroker and natsbroker for clusters)
//   - auth: JWT authentication and channel authorization
//   - ssehttp: the http.Handlers of the stream and publish API
//
// The standalone server (cmd/ssehub) wires them together; an embedding Go
// service does the same in a few lines (see examples/embedded).
//
// # Example
//
//	var ChatMessage = ssehub.Define[Message]("chat:message")
//
//	id, err := ssehub.Emit(ctx, h, ChatMessage, Message{Text: "hi"},
//		ssehub.ToChannel("t1", "conversation:42"), ssehub.ExcludeConn(sender))
package ssehub
