package apidoc

import (
	"encoding/json"
	"maps"
	"slices"
)

// controlEvent is an sse:* event the server sends on its own.
type controlEvent struct {
	name, summary string
	payload       map[string]any
}

func obj(required []string, props map[string]any) map[string]any {
	return map[string]any{"type": "object", "required": required, "properties": props}
}

func enum(vals ...string) map[string]any { return map[string]any{"type": "string", "enum": vals} }

var (
	stringSchema = map[string]any{"type": "string"}
	retryMs      = map[string]any{"type": "integer", "minimum": 0, "description": "The reconnect delay the server asks for (its retry: field)."}
)

// controlEvents are the control events of docs/protocol.md, with the
// payloads hub writes (readyData, controlData, reasonData).
var controlEvents = []controlEvent{
	{"sse:ready", "First on every stream: the connection's identity. Record connectionId (for POST /api/sse/subscriptions).",
		obj([]string{"connectionId", "userId", "tenantId", "channels", "heartbeatMs"}, map[string]any{
			"connectionId": stringSchema, "userId": stringSchema, "tenantId": stringSchema,
			"channels":    map[string]any{"type": []any{"array", "null"}, "items": stringSchema},
			"heartbeatMs": map[string]any{"type": "integer", "description": "How often a :heartbeat comment comes; a client that hears nothing for longer reconnects."},
		})},
	{"sse:evicted", "The per-user (or node) limit closed this connection for a newer one. Do not reconnect automatically.",
		obj([]string{"reason"}, map[string]any{"reason": enum("evicted"), "retryMs": retryMs})},
	{"sse:reset", "Events were lost to this stream: a resume history no longer reaches back to (history_too_short, unknown_last_event_id), or the log a live stream followed was lost and a new one begun (log_lost). Refetch state; live events follow on the same stream.",
		obj([]string{"reason"}, map[string]any{"reason": enum("history_too_short", "unknown_last_event_id", "log_lost")})},
	{"sse:token-expired", "The token reached its exp; the stream closes. Get a new token and reconnect (it resumes).",
		obj([]string{"reason"}, map[string]any{"reason": enum("token_expired")})},
	{"sse:shutdown", "Graceful shutdown, --max-conn-age reached, or the broker cannot read history. Reconnect after retry; it resumes.",
		obj([]string{"reason"}, map[string]any{"reason": enum("shutdown", "max_age", "history_unavailable"), "retryMs": retryMs})},
	{"sse:disabled", "An admin disabled streaming; the stream closes. Do not reconnect (new streams get 503 sse_disabled).",
		obj([]string{"reason"}, map[string]any{"reason": enum("disabled"), "retryMs": retryMs})},
}

// ControlEvents returns the names of the sse:* control events the
// AsyncAPI document describes.
func ControlEvents() []string {
	var out []string
	for _, c := range controlEvents {
		out = append(out, c.name)
	}
	return out
}

// AsyncAPI returns the AsyncAPI 3.0 document of the event stream (GET
// /api/sse) as JSON: one receive operation on the stream channel, with a
// message per sse:* control event and, when catalogSchema is not nil, per
// catalog event (its payload schema, targets, rate limit and sanitizing
// in x-ssehub). A message's name is the SSE event name (the event: field);
// its payload is the JSON of the data: lines.
func AsyncAPI(catalogSchema []byte) ([]byte, error) {
	schemas := map[string]any{}
	messages := map[string]any{}
	msgKey := func(name string) string { return componentName(name) }
	for _, c := range controlEvents {
		key := "control." + msgKey(c.name)[len(CatalogPrefix):]
		messages[key] = map[string]any{
			"name": c.name, "title": c.name, "summary": c.summary,
			"contentType": "application/json", "payload": c.payload,
			"tags": []any{map[string]any{"name": "control"}},
		}
	}
	if catalogSchema != nil {
		cat, err := parseCatalog(catalogSchema)
		if err != nil {
			return nil, err
		}
		for key, def := range cat.defs {
			schemas[componentName(key)] = def
		}
		for _, e := range cat.events {
			m := map[string]any{
				"name": e.name, "title": e.name, "contentType": "application/json",
				"payload": map[string]any{"$ref": "#/components/schemas/" + componentName(e.key)},
				"tags":    []any{map[string]any{"name": "catalog"}},
			}
			if d, ok := e.schema["description"].(string); ok {
				m["summary"] = d
			}
			if ext, ok := e.schema["x-ssehub"]; ok {
				m["x-ssehub"] = ext
			}
			messages[msgKey(e.name)] = m
		}
	}
	channelMsgs := map[string]any{}
	var opMsgs []any
	for _, k := range slices.Sorted(maps.Keys(messages)) {
		channelMsgs[k] = map[string]any{"$ref": "#/components/messages/" + k}
		opMsgs = append(opMsgs, map[string]any{"$ref": "#/channels/stream/messages/" + k})
	}
	doc := map[string]any{
		"asyncapi": "3.0.0",
		"info": map[string]any{
			"title":   "ssehub event stream",
			"version": "1",
			"description": "The Server-Sent Events a client receives on GET /api/sse. Each event is `id: <id>`, " +
				"`event: <name>` (the message name), one `data:` line per line of the JSON payload, and a blank line; " +
				"`:heartbeat` comments keep the stream alive. Control events (`sse:*`) carry no id, except sse:ready on a " +
				"fresh connection. Publishing is HTTP: see GET /api/openapi.json.",
			"license": map[string]any{"name": "MIT"},
		},
		"defaultContentType": "application/json",
		"servers": map[string]any{
			"dev": map[string]any{
				"host": "127.0.0.1:8080", "protocol": "http", "description": "ssehub in dev mode (go run ./cmd/ssehub)",
				"security": []any{
					map[string]any{"$ref": "#/components/securitySchemes/bearerAuth"},
					map[string]any{"$ref": "#/components/securitySchemes/queryToken"},
					map[string]any{"$ref": "#/components/securitySchemes/cookieAuth"},
				},
			},
		},
		"channels": map[string]any{
			"stream": map[string]any{
				"address": "/api/sse",
				"title":   "The event stream",
				"description": "One connection per client. It receives the events of its tenant addressed to its user, " +
					"to its tenant, to the channels it subscribes to (?channels=, POST /api/sse/subscriptions), and broadcasts.",
				"servers":  []any{map[string]any{"$ref": "#/servers/dev"}},
				"messages": channelMsgs,
			},
		},
		"operations": map[string]any{
			"receiveEvents": map[string]any{
				"action":   "receive",
				"title":    "Receive events",
				"summary":  "Open GET /api/sse and receive the events and control events.",
				"channel":  map[string]any{"$ref": "#/channels/stream"},
				"messages": opMsgs,
			},
		},
		"components": map[string]any{
			"schemas":  schemas,
			"messages": messages,
			"securitySchemes": map[string]any{
				"bearerAuth": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "Authorization: Bearer <JWT>."},
				"queryToken": map[string]any{"type": "httpApiKey", "in": "query", "name": "access_token", "description": "The JWT in ?access_token=, for EventSource."},
				"cookieAuth": map[string]any{"type": "httpApiKey", "in": "cookie", "name": "ssehub_token", "description": "The JWT in a cookie (name configurable)."},
			},
		},
	}
	if len(schemas) == 0 {
		delete(doc["components"].(map[string]any), "schemas")
	}
	return json.MarshalIndent(doc, "", "  ")
}
