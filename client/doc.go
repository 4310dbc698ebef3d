// Package client is a Go client of an ssehub event stream (GET /api/sse).
//
// A [Client] keeps one stream open: it connects, decodes events with
// [sse.Decoder], calls the handlers registered for their names, and
// reconnects when the stream drops, with exponential backoff and
// Last-Event-ID, so that a reconnect resumes without losing or repeating an
// event (as far as the server's history reaches; see [Config.OnReset]). It
// follows the server's control events: sse:token-expired asks
// [Config.Token] for a new token, sse:shutdown waits the server's retryMs,
// and sse:evicted and sse:disabled end [Client.Run]. A watchdog reconnects
// when not even a heartbeat has arrived for 2.5 heartbeat intervals.
//
// [On] registers a typed handler for an event declared with
// [ssehub.Define]: the same declaration the publisher uses, so the payload
// type is shared. [Client.OnRaw] gets the events as they are on the wire.
//
// # Concurrency
//
// A Client is safe for concurrent use. Handlers and hooks run one at a time
// on the goroutine that called [Client.Run], in the order events arrive.
// Every goroutine Run starts has ended when it returns.
//
// # Example
//
//	var ChatMessage = ssehub.Define[Message]("chat:message")
//
//	c, err := client.New(client.Config{
//		URL:      "http://127.0.0.1:8080/api/sse",
//		Token:    func(ctx context.Context) (string, error) { return tokens.Get(ctx) },
//		Channels: []string{"conversation:1"},
//	})
//	if err != nil {
//		return err
//	}
//	client.On(c, ChatMessage, func(m Message, meta client.Meta) {
//		fmt.Println(meta.ID, m.Text)
//	})
//	err = c.Run(ctx) // until ctx ends, ErrEvicted or ErrDisabled
package client
