// Package demo is the demo app and operations dashboard that ssehub serves
// in dev mode: a React app (built with Vite from web/demo and embedded from
// static/) at / and /dashboard, and the dev-only endpoints it calls under
// /api/demo/.
//
// The endpoints let a visitor sign in as one of a few demo users of two
// tenants (alice and carol in acme, bob and dave in globex) or as the admin,
// and act on their behalf: chat messages, typing, invoices, nudges and, for
// the admin, announcements. Every action is published through the hub with
// [ssehub.Emit], so validation, tenant isolation, rate limits and coalescing
// apply as they do to POST /api/events. Demo state (messages, invoices) lives
// in memory, bounded, and is lost on restart.
//
// [Demo.Run] feeds the dashboard: every second it publishes the cluster's
// stats as the event ops:stats on channel ops:stats of tenant _ops, where the
// admin's dashboard listens, and each demo user's presence on channel
// presence:<user> of their tenant: when it changes, and every 5 seconds for
// pages that subscribed just after a change.
//
// # Example
//
//	d, err := demo.New(demo.Config{Hub: h, Secret: secret})
//	if err != nil {
//		return err
//	}
//	d.Register(mux)
//	go d.Run(ctx) // ends when ctx is done
//
// # Concurrency
//
// A Demo is safe for concurrent use. Run must be called at most once.
package demo
