// Package sse reads and writes the Server-Sent Events wire format
// (text/event-stream), exactly as the WHATWG HTML standard's "event stream
// interpretation" rules and browsers' EventSource read it. It knows nothing
// of HTTP, connections or fan-out, and imports only the standard library.
//
// The main types are [Event], one server-sent event; [Encoder], which writes
// events, comments and retry lines to an [io.Writer]; and [Decoder], which
// reads them back from an [io.Reader]. On the server's hot path,
// [AppendEvent], [AppendComment] and [AppendRetry] encode into a
// caller-owned buffer without allocating.
//
// Encoding refuses what would break framing rather than altering it: an id
// or event name containing CR, LF or NUL gives an error wrapping
// [ErrInvalidField]. Data may contain any line endings; each line becomes its
// own data line, and empty Data is written as one bare "data:" line so that
// the browser still fires the event, with data "". A decoded event's Data
// has every line ending as "\n", which is what browsers deliver.
//
// Decoding bounds memory with [Decoder.MaxLineSize] and
// [Decoder.MaxEventSize] (an error wrapping [ErrTooLarge] past them), handles
// reads split at any byte, and reports comments on request through
// [Event.Comment], so tests can watch heartbeats.
//
// The Append functions are safe for concurrent use. An Encoder or a Decoder
// is not: each belongs to the one goroutine that writes or reads its stream.
//
// # Example
//
// A server writes the reconnection time, an event and a heartbeat:
//
//	enc := sse.NewEncoder(w)
//	enc.Retry(3 * time.Second)
//	enc.Encode(sse.Event{ID: "42", Name: "chat:message", Data: `{"text":"hi"}`})
//	enc.Comment("heartbeat")
//
// which sends
//
//	retry: 3000
//
//	id: 42
//	event: chat:message
//	data: {"text":"hi"}
//
//	:heartbeat
//
// A client reads events until the stream ends:
//
//	dec := sse.NewDecoder(resp.Body)
//	for ev, err := range dec.Events() {
//		if err != nil {
//			return err
//		}
//		fmt.Println(ev.ID, ev.Name, ev.Data)
//	}
//	// reconnect with dec.LastEventID() after dec.Retry()
package sse
