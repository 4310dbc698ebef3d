package catalog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"time"
)

// SchemaVersion is the version of the x-ssehub extension in
// [Catalog.JSONSchema]'s output.
const SchemaVersion = 1

// Extension is the "x-ssehub" member of an event's schema in
// [Catalog.JSONSchema]'s output: what a JSON Schema cannot say.
type Extension struct {
	// Event is the event name; its presence marks a $defs entry as an event.
	Event     string            `json:"event"`
	RateLimit *RateLimitJSON    `json:"rateLimit,omitempty"`
	Sanitize  map[string]string `json:"sanitize,omitempty"`
	Targets   []string          `json:"targets,omitempty"`
}

// RateLimitJSON is a RateLimit as written in JSON.
type RateLimitJSON struct {
	// Interval is a Go duration ("1s", "1m30s").
	Interval string `json:"interval"`
	// IntervalMs is the same interval in milliseconds.
	IntervalMs int64  `json:"intervalMs"`
	Mode       string `json:"mode"`
}

// RootExtension is the "x-ssehub" member of the document's root.
type RootExtension struct {
	Version      int  `json:"version"`
	AllowUnknown bool `json:"allowUnknown"`
}

// JSONSchema returns the catalog as one JSON Schema (draft 2020-12)
// document: every event is a $defs entry named after the event, with an
// "x-ssehub" member (see Extension) carrying its rate limit, sanitizing
// and targets; shared definitions are $defs entries without one. The root
// carries an "x-ssehub" RootExtension. The output is deterministic:
// entries are sorted by name and schemas keep their key order.
func (c *Catalog) JSONSchema() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"$schema":"https://json-schema.org/draft/2020-12/schema","$id":`)
	writeString(&b, schemaURL)
	b.WriteString(`,"title":"ssehub event catalog","x-ssehub":`)
	root, _ := json.Marshal(RootExtension{Version: SchemaVersion, AllowUnknown: c.AllowUnknown})
	b.Write(root)
	b.WriteString(`,"$defs":{`)
	names := slices.Sorted(maps.Keys(c.defs))
	for name := range c.events {
		names = append(names, name)
	}
	slices.Sort(names)
	for i, name := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(&b, name)
		b.WriteByte(':')
		if ce, ok := c.events[name]; ok {
			if err := ce.writeSchema(&b); err != nil {
				return nil, err
			}
		} else {
			b.Write(c.defs[name])
		}
	}
	b.WriteString(`}}`)
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// writeSchema writes the event's schema with its description (when the
// schema has none) and its x-ssehub extension.
func (ce *compiled) writeSchema(b *bytes.Buffer) error {
	ev := &ce.ev
	ext := Extension{Event: ev.Name, Sanitize: ev.Sanitize, Targets: ev.Targets}
	if rl := ev.RateLimit; rl != nil {
		ext.RateLimit = &RateLimitJSON{Interval: rl.Interval.String(), IntervalMs: rl.Interval.Milliseconds(), Mode: rl.Mode}
	}
	extJSON, err := json.Marshal(ext)
	if err != nil {
		return err
	}
	body := bytes.TrimSpace(ev.Schema[1 : len(ev.Schema)-1]) // compact object without braces
	b.WriteByte('{')
	if ev.Description != "" && !hasKey(ev.Schema, "description") {
		b.WriteString(`"description":`)
		writeString(b, ev.Description)
		b.WriteByte(',')
	}
	if len(body) > 0 {
		b.Write(body)
		b.WriteByte(',')
	}
	b.WriteString(`"x-ssehub":`)
	b.Write(extJSON)
	b.WriteByte('}')
	return nil
}

// hasKey reports whether the JSON object obj has the member key.
func hasKey(obj json.RawMessage, key string) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(obj, &m) != nil {
		return false
	}
	_, ok := m[key]
	return ok
}

// ServeHTTP serves JSONSchema as application/schema+json to GET and HEAD
// (mount it at GET /api/events/schema). The document is public: it holds
// no secrets, only what clients need to type events.
func (c *Catalog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusMethodNotAllowed)
		_, _ = w.Write([]byte(`{"error":{"code":"method_not_allowed","message":"use GET"}}` + "\n"))
		return
	}
	doc, err := c.JSONSchema()
	if err != nil {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":{"code":"internal_error","message":"cannot encode the catalog"}}` + "\n"))
		return
	}
	w.Header().Set("Content-Type", "application/schema+json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	sum := sha256.Sum256(doc)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(doc))
}
