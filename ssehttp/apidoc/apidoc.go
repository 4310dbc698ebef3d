// Package apidoc describes ssehub's API in the formats tools read: the HTTP
// API in OpenAPI 3.1 ([OpenAPI]) and the event stream in AsyncAPI 3
// ([AsyncAPI]), both built from one source each — openapi.yaml, embedded,
// for the HTTP API; the event catalog and the control events for the
// stream — and served by [Mount] at GET /api/openapi.json and GET
// /api/asyncapi.json.
//
// With an event catalog, its payload schemas are folded in: the publish
// body of the OpenAPI document becomes one alternative per catalog event
// (its name, its payload schema and the targets it allows), and each event
// is a message of the AsyncAPI document.
//
// The tests keep the source honest: the paths and methods must be those
// the server routes, every example request of the document is sent to a
// real server and its answer checked against the document, and every
// documented status is produced by one of them.
package apidoc

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed openapi.yaml
var openapiYAML []byte

// CatalogPrefix starts the component names of the catalog's schemas in the
// OpenAPI document (catalog.chat.message, catalog.User) and of its messages
// in the AsyncAPI document.
const CatalogPrefix = "catalog."

// OpenAPI returns the OpenAPI 3.1 document of the HTTP API as JSON.
// catalogSchema, when not nil, is the event catalog's JSON Schema
// (catalog.Catalog.JSONSchema): its definitions are added under
// components/schemas with [CatalogPrefix] and the publish body takes only
// its events.
func OpenAPI(catalogSchema []byte) ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(openapiYAML, &doc); err != nil {
		return nil, fmt.Errorf("apidoc: openapi.yaml: %w", err)
	}
	if catalogSchema != nil {
		cat, err := parseCatalog(catalogSchema)
		if err != nil {
			return nil, err
		}
		foldCatalog(doc, cat)
	}
	return json.MarshalIndent(doc, "", "  ")
}

// catalogDoc is what the documents need of a catalog schema.
type catalogDoc struct {
	defs         map[string]any // $defs, refs rewritten to components
	events       []catalogEvent // sorted by name
	allowUnknown bool
}

type catalogEvent struct {
	name, key string
	targets   []string
	schema    map[string]any
}

var allTargets = []string{"user", "users", "tenant", "channel", "broadcast"}

var notComponentChar = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// componentName is the component key of catalog definition key.
func componentName(key string) string {
	return CatalogPrefix + notComponentChar.ReplaceAllString(strings.ReplaceAll(key, ":", "."), "_")
}

// parseCatalog reads a catalog schema and rewrites its $refs
// (#/$defs/X) to point at components (#/components/schemas/catalog.X).
func parseCatalog(schema []byte) (*catalogDoc, error) {
	var raw struct {
		Ext struct {
			AllowUnknown bool `json:"allowUnknown"`
		} `json:"x-ssehub"`
		Defs map[string]any `json:"$defs"`
	}
	if err := json.Unmarshal(schema, &raw); err != nil {
		return nil, fmt.Errorf("apidoc: the catalog schema: %w", err)
	}
	if raw.Defs == nil {
		return nil, fmt.Errorf("apidoc: the catalog schema has no $defs (is it an ssehub catalog?)")
	}
	c := &catalogDoc{defs: map[string]any{}, allowUnknown: raw.Ext.AllowUnknown}
	for key, def := range raw.Defs {
		def = rewriteRefs(def, "#/components/schemas/")
		c.defs[key] = def
		m, _ := def.(map[string]any)
		ext, _ := m["x-ssehub"].(map[string]any)
		name, _ := ext["event"].(string)
		if name == "" {
			continue
		}
		e := catalogEvent{name: name, key: key, schema: m, targets: allTargets}
		if ts, ok := ext["targets"].([]any); ok && len(ts) > 0 {
			e.targets = nil
			for _, t := range ts {
				if s, ok := t.(string); ok {
					e.targets = append(e.targets, s)
				}
			}
		}
		c.events = append(c.events, e)
	}
	slices.SortFunc(c.events, func(a, b catalogEvent) int { return strings.Compare(a.name, b.name) })
	return c, nil
}

// rewriteRefs returns v with every "$ref": "#/$defs/X" pointing at
// base+componentName(X) instead.
func rewriteRefs(v any, base string) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, val := range t {
			if s, ok := val.(string); ok && k == "$ref" {
				if key, ok := strings.CutPrefix(s, "#/$defs/"); ok {
					key = strings.NewReplacer("~1", "/", "~0", "~").Replace(key)
					out[k] = base + componentName(key)
					continue
				}
			}
			out[k] = rewriteRefs(val, base)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, val := range t {
			out[i] = rewriteRefs(val, base)
		}
		return out
	}
	return v
}

var targetSchema = map[string]string{
	"user": "UserTarget", "users": "UsersTarget", "tenant": "TenantTarget", "channel": "ChannelTarget", "broadcast": "BroadcastTarget",
}

// foldCatalog adds the catalog's schemas to doc and makes PublishEvent one
// of the catalog's events.
func foldCatalog(doc map[string]any, c *catalogDoc) {
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for key, def := range c.defs {
		schemas[componentName(key)] = def
	}
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	var alts []any
	var names []any
	for _, e := range c.events {
		var targets []any
		for _, t := range e.targets {
			targets = append(targets, ref(targetSchema[t]))
		}
		var target any = map[string]any{"oneOf": targets}
		if len(targets) == 1 {
			target = targets[0]
		}
		desc, _ := e.schema["description"].(string)
		alt := map[string]any{
			"title":    e.name,
			"allOf":    []any{ref("PublishRequest")},
			"required": []any{"event", "data", "target"},
			"properties": map[string]any{
				"event":  map[string]any{"const": e.name},
				"data":   ref(componentName(e.key)),
				"target": target,
			},
		}
		if desc != "" {
			alt["description"] = desc
		}
		alts = append(alts, alt)
		names = append(names, e.name)
	}
	if c.allowUnknown {
		alts = append(alts, map[string]any{
			"title":       "an event not in the catalog",
			"description": "The catalog allows unknown events (allowUnknown); their data is not checked.",
			"allOf":       []any{ref("PublishRequest")},
			"properties":  map[string]any{"event": map[string]any{"not": map[string]any{"enum": names}}},
		})
	}
	schemas["PublishEvent"] = map[string]any{
		"description": "One event of the catalog.",
		"oneOf":       alts,
	}
}
