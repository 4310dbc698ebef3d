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
// A rule may name a payload field ([Rule.By]) whose value splits its
// windows, so a limit applies per target and per sender. The seed's
// defaults are [Defaults]: chat:typing at most once a second and
// presence:update once every five seconds, both coalesced per userId.
//
// A [Limiter] is safe for concurrent use. The ends of its windows sit in
// one heap served by one goroutine it owns, whatever the number of
// windows; [Limiter.Close] stops it. Its state is bounded by
// [MaxWindows] and [MaxHeldBytes].
//
// # Example
//
//	l := ratelimit.New(ratelimit.Defaults(), func(ms []broker.Message) { publish(ms...) })
//	defer l.Close()
//	decisions, err := l.Decide(time.Now(), items)
package ratelimit
