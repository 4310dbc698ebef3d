// Package catalog is the typed contract of an ssehub deployment: the events
// it carries, the JSON Schema of each payload, and per event its rate limit,
// the string fields that hold user content (sanitized as HTML), and the
// target kinds it may use.
//
// A [Catalog] comes from a file ([Load], [LoadFile]; YAML or JSON) for the
// standalone server, or from Go types ([Add], which derives each schema
// with github.com/invopop/jsonschema) for an embedder. Both produce the
// same document, [Catalog.JSONSchema]: one JSON Schema (draft 2020-12) with
// a $defs entry per event carrying an "x-ssehub" extension. The server
// serves it at GET /api/events/schema ([Catalog.ServeHTTP]) and
// `ssehub gen ts` (package internal/codegen) turns it into TypeScript.
//
// [Catalog.Check] is the hub's publish-pipeline hook (hub.Config.Schema),
// so every publish is checked, over HTTP or from Go. With [Catalog.Validate]
// it sanitizes user-content fields with github.com/microcosm-cc/bluemonday
// (StrictPolicy or UGCPolicy, per field), validates the result with
// github.com/santhosh-tekuri/jsonschema/v6 against the schema compiled at
// load, and returns the bytes to publish, identical to the input but for
// the cleaned strings. Errors name the event, the JSON pointer of the bad
// value and the reason ([ValidationError]); unknown events are refused
// ([ErrUnknownEvent]) unless [Catalog.AllowUnknown] is set.
//
// A catalog is built once, then only read: its read methods are safe for
// concurrent use; adding events while it serves is not.
//
// # Example
//
//	c, err := catalog.LoadFile("catalog.yaml")
//	if err != nil {
//		log.Fatal(err) // catalog.yaml:12:7: event "chat:message": schema at /properties/text/type: …
//	}
//	hb, err := hub.New(hub.Config{Schema: c.Check}) // every Publish, HTTP or Go, is checked
//	mux.Handle("GET /api/events/schema", c)
package catalog
