// Package hub registers live connections and delivers events to them. It
// knows nothing about HTTP: the HTTP layer (ssehttp) authenticates a
// request, then hands the hub a connection to serve.
//
// The main type is [Hub]. [Hub.Connect] registers a connection, enforcing
// the per-user and per-node limits (evicting the oldest with sse:evicted,
// or refusing with a [*LimitError]); the caller then calls exactly one of
// [Conn.Serve] (the stream is written on the caller's goroutine until it
// ends), [Conn.Start] (the hub's small pool of writers drives it, so an
// idle connection costs no goroutine and no buffer) or [Conn.Close].
// [Hub.Publish] validates messages and appends them to the broker's log;
// the hub subscribes to that log and fans each event out, encoded once,
// to the connections it is meant for, through indexes by tenant, by user
// and by channel, so delivery costs grow with the recipients only.
//
// A connection has a queue bounded in events (QueueSize) and in bytes
// (QueueBytes), and the node bounds all queues together (NodeQueueBytes,
// closing the connections furthest behind): a publisher never waits for a
// client, and a client that stops reading is closed when its queue fills,
// to resume from history. A queue holds the shared frames themselves, and
// a write hands them to the transport as a list of buffers with the
// framing around them, so nothing is copied per connection. Every write
// has a deadline (a [TryWriter] is never waited on, and a full socket is
// tried again later and later); one ticker sends the heartbeats of every connection, one
// timer ends connections at their token's expiry or maximum age, and a
// sweep closes connections without a successful write for
// InactivityTimeout. A client that reconnects with a
// Last-Event-ID gets the events it missed from the broker's history,
// exactly once and in order, or sse:reset when history no longer reaches
// back. When the broker is shared by several hubs and carries control
// messages ([broker.Bus]), the hubs form a cluster: limits, subscription
// changes, stats and disable/enable work across nodes (cluster.go).
//
// A Hub is safe for concurrent use. [Hub.Shutdown] refuses new
// connections and publishes, delivers what was acknowledged, ends every
// stream with sse:shutdown and waits for every goroutine it started; a Hub
// may not be reused after it.
//
// # Example
//
//	h, err := hub.New(hub.Config{}) // in memory, the seed's defaults
//	c, err := h.Connect(hub.ConnInfo{TenantID: "t1", UserID: "u1", Channels: []string{"room:1"}})
//	go c.Serve(ctx, w) // w: an http.ResponseWriter adapted to hub.Writer
//	ids, err := h.Publish(ctx, broker.Message{Event: "chat:message", TenantID: "t1",
//		Data: []byte(`{"text":"hi"}`), Target: broker.Target{Kind: broker.ToChannel, Channel: "room:1"}})
//	defer h.Shutdown(ctx)
package hub
