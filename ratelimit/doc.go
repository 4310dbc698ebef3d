// Package ratelimit limits how often an event may be published to one
// target, in one of two modes:
//
//   - Drop: at most one event per interval; the excess is refused (the
//     publisher gets HTTP 429).
//   - Coalesce: latest wins. The first event of a quiet period passes at
//     once and opens a window; events inside the window replace each other,
//     and the last one is delivered when the window ends, opening the next.
//     The final state is never lost, and at most one event passes per
//     window.
//
// The seed's defaults are [Defaults]: chat:typing at most once a second and
// presence:update once every five seconds, both coalesced.
//
// A [Limiter] is safe for concurrent use. Coalesced events are flushed from
// timers it owns; [Limiter.Close] stops them.
//
// # Example
//
//	l := ratelimit.New(ratelimit.Defaults(), func(m broker.Message) { publish(m) })
//	defer l.Close()
//	decisions, err := l.Decide(time.Now(), items)
package ratelimit
