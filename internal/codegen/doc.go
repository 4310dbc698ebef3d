// Package codegen generates code from an ssehub event catalog:
// [TypeScript] turns the catalog's JSON Schema (catalog.Catalog.JSONSchema,
// GET /api/events/schema) into a module with one interface per payload and
// an EventMap, which types the browser client (@ssehub/client) and the
// Node publisher (@ssehub/node); [Python] into a module of TypedDicts and a
// typed Publisher for the Python publisher (clients/python). [Main] is the
// `ssehub gen ts|python|openapi|asyncapi` command; openapi and asyncapi
// write package apidoc's documents.
//
// The output is deterministic, so it can be committed and checked in CI
// with `ssehub gen ts --catalog catalog.yaml -o events.gen.ts --check`.
//
// # Example
//
//	c, err := catalog.LoadFile("catalog.yaml")
//	…
//	schema, err := c.JSONSchema()
//	…
//	ts, err := codegen.TypeScript(schema)
package codegen
