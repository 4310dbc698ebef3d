package catalog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize caps a catalog file.
const MaxFileSize = 16 << 20

// LoadError is an error in a catalog file, at a line and column when
// known (zero otherwise). It wraps ErrInvalid.
type LoadError struct {
	File         string // "" when read from an io.Reader without a name
	Line, Column int
	Err          error
}

func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.File == "" {
		b.WriteString("catalog")
	}
	switch {
	case e.Line > 0 && e.Column > 0:
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	case e.Line > 0:
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	b.WriteString(strings.TrimPrefix(e.Err.Error(), ErrInvalid.Error()+": "))
	return b.String()
}

func (e *LoadError) Unwrap() error { return e.Err }

// LoadFile reads a catalog file (YAML or JSON; see [Load]).
func LoadFile(path string) (*Catalog, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	defer f.Close()
	return load(f, path)
}

// Load reads a catalog in YAML or JSON (JSON is read as the YAML it is):
//
//	allowUnknown: false          # optional; true lets unknown events through
//	$defs:                       # optional shared schemas: {"$ref": "#/$defs/User"}
//	  User: {type: object, properties: {id: {type: string}}}
//	events:
//	  chat:message:
//	    description: A message in a conversation.
//	    schema: {type: object, properties: {text: {type: string}}, required: [text]}
//	    rateLimit: {interval: 1s, mode: drop}    # or coalesce; by: userId limits per sender
//	    sanitize: {text: ugc}                    # or strict; paths: a.b or /a/b
//	    targets: [user, users, channel]          # default: all kinds
//
// Every schema is compiled; unknown keys, bad schemas and bad policies are
// reported as a *LoadError with the line and column.
func Load(r io.Reader) (*Catalog, error) { return load(r, "") }

func load(r io.Reader, file string) (*Catalog, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, &LoadError{File: file, Err: fmt.Errorf("%w: over %d bytes", ErrInvalid, MaxFileSize)}
	}
	l := loader{file: file}
	c, err := l.parse(data)
	if err != nil {
		return nil, err
	}
	return c, nil
}

type loader struct {
	file string
}

func (l *loader) errAt(n *yaml.Node, format string, args ...any) error {
	e := &LoadError{File: l.file, Err: fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

func (l *loader) parse(data []byte) (*Catalog, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := yamlError(err)
		return nil, &LoadError{File: l.file, Line: line, Err: fmt.Errorf("%w: %s", ErrInvalid, msg)}
	}
	if len(doc.Content) == 0 {
		return nil, l.errAt(nil, "empty catalog: want a mapping with events")
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return nil, l.errAt(root, "the catalog must be a mapping with events")
	}
	c := &Catalog{}
	var events, defs *yaml.Node
	err := l.fields(root, "the catalog", func(key string, k, v *yaml.Node) error {
		switch key {
		case "version":
			if v.Kind != yaml.ScalarNode || v.Value != "1" {
				return l.errAt(v, "version: only 1 is supported")
			}
		case "allowUnknown":
			return l.decode(v, "allowUnknown", &c.AllowUnknown)
		case "$defs":
			defs = v
		case "events":
			events = v
		default:
			return l.errAt(k, "unknown key %q (want version, allowUnknown, $defs or events)", key)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if defs != nil {
		if err := l.fields(defs, "$defs", func(name string, k, v *yaml.Node) error {
			raw, err := toJSON(v)
			if err != nil {
				return l.errAt(v, "$defs: %s: %v", name, err)
			}
			if err := c.AddDef(name, raw); err != nil {
				return l.schemaErr(err, k, v)
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	if events == nil {
		return nil, l.errAt(root, "no events: add an events mapping")
	}
	if err := l.fields(events, "events", func(name string, k, v *yaml.Node) error {
		ev, schemaNode, err := l.event(name, v)
		if err != nil {
			return err
		}
		if err := c.AddEvent(ev); err != nil {
			if schemaNode == nil {
				schemaNode = v
			}
			return l.schemaErr(err, k, schemaNode)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// schemaErr places an AddEvent/AddDef error at the schema node it points
// into, or at key.
func (l *loader) schemaErr(err error, key, schema *yaml.Node) error {
	at := key
	var se *schemaError
	if errors.As(err, &se) {
		if n := lookupPointer(schema, se.ptr); n != nil {
			at = n
		}
	}
	return &LoadError{File: l.file, Line: at.Line, Column: at.Column, Err: err}
}

func (l *loader) event(name string, n *yaml.Node) (Event, *yaml.Node, error) {
	ev := Event{Name: name}
	var schemaNode *yaml.Node
	n = resolve(n)
	err := l.fields(n, "event "+name, func(key string, k, v *yaml.Node) error {
		switch key {
		case "description":
			return l.decode(v, name+": description", &ev.Description)
		case "schema":
			raw, err := toJSON(v)
			if err != nil {
				return l.errAt(v, "event %q: schema: %v", name, err)
			}
			ev.Schema, schemaNode = raw, v
		case "rateLimit":
			rl := &RateLimit{}
			var interval *yaml.Node
			if err := l.fields(v, name+": rateLimit", func(key string, k, v *yaml.Node) error {
				switch key {
				case "interval":
					var s string
					if err := l.decode(v, name+": rateLimit.interval", &s); err != nil {
						return err
					}
					d, err := time.ParseDuration(s)
					if err != nil {
						return l.errAt(v, "event %q: rateLimit.interval: %q is not a duration like 1s or 500ms", name, s)
					}
					rl.Interval, interval = d, v
				case "mode":
					return l.decode(v, name+": rateLimit.mode", &rl.Mode)
				case "by":
					return l.decode(v, name+": rateLimit.by", &rl.By)
				default:
					return l.errAt(k, "event %q: rateLimit: unknown key %q (want interval, mode, by)", name, key)
				}
				return nil
			}); err != nil {
				return err
			}
			if interval == nil {
				return l.errAt(v, "event %q: rateLimit: interval is required", name)
			}
			ev.RateLimit = rl
		case "sanitize":
			ev.Sanitize = map[string]string{}
			return l.fields(v, name+": sanitize", func(path string, k, v *yaml.Node) error {
				var p string
				if err := l.decode(v, name+": sanitize."+path, &p); err != nil {
					return err
				}
				if _, err := parseRule(path, p); err != nil {
					return l.errAt(v, "event %q: sanitize: %v", name, err)
				}
				ev.Sanitize[path] = p
				return nil
			})
		case "targets":
			if err := l.decode(v, name+": targets", &ev.Targets); err != nil {
				return err
			}
		default:
			return l.errAt(k, "event %q: unknown key %q (want description, schema, rateLimit, sanitize, targets)", name, key)
		}
		return nil
	})
	return ev, schemaNode, err
}

// fields calls fn for each key of mapping n, in order, refusing anything
// but a mapping with unique scalar keys.
func (l *loader) fields(n *yaml.Node, what string, fn func(key string, k, v *yaml.Node) error) error {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return l.errAt(n, "%s: want a mapping", what)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return l.errAt(k, "%s: keys must be strings", what)
		}
		if k.Tag == "!!merge" {
			return l.errAt(k, "%s: merge keys (<<) are not supported", what)
		}
		if seen[k.Value] {
			return l.errAt(k, "%s: key %q defined twice", what, k.Value)
		}
		seen[k.Value] = true
		if err := fn(k.Value, k, v); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) decode(n *yaml.Node, what string, v any) error {
	if err := resolve(n).Decode(v); err != nil {
		msg := err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		return l.errAt(n, "%s: %s", what, msg)
	}
	return nil
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// lookupPointer finds the node at JSON pointer ptr below n, or nil.
func lookupPointer(n *yaml.Node, ptr string) *yaml.Node {
	if ptr == "" || ptr == "/" {
		return n
	}
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok, _ = unescapePointer(tok)
		n = resolve(n)
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == tok {
					next = n.Content[i+1]
					break
				}
			}
		case yaml.SequenceNode:
			var idx int
			if _, err := fmt.Sscanf(tok, "%d", &idx); err == nil && idx >= 0 && idx < len(n.Content) {
				next = n.Content[idx]
			}
		}
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

// yamlError splits a yaml error ("yaml: line 3: …") into line and text.
func yamlError(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if _, scanErr := fmt.Sscanf(msg, "line %d:", &line); scanErr == nil {
		if i := strings.Index(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
	}
	return line, msg
}
