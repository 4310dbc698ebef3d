package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/ssehub/ssehub/ratelimit"
)

// schemaURL names the document every schema is compiled in. References
// other than to the document itself are refused (see noLoader).
const schemaURL = "urn:ssehub:catalog"

var printer = message.NewPrinter(language.English)

// noLoader refuses to load any external schema: a catalog is one document.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("external reference %q: a catalog may refer only to its own #/$defs", url)
}

// newCompiler returns a compiler for draft 2020-12 that asserts formats
// (date-time, email, uri, …) and loads nothing from outside.
func newCompiler() *jsonschema.Compiler {
	jc := jsonschema.NewCompiler()
	jc.DefaultDraft(jsonschema.Draft2020)
	jc.AssertFormat()
	jc.UseLoader(noLoader{})
	return jc
}

// compileIn compiles the definition name of a document holding the shared
// definitions plus extra (name → schema).
func (c *Catalog) compileIn(name string, schema json.RawMessage) (*jsonschema.Schema, error) {
	var b bytes.Buffer
	b.WriteString(`{"$defs":{`)
	defs := maps.Clone(c.defs)
	if defs == nil {
		defs = map[string]json.RawMessage{}
	}
	defs[name] = schema
	for i, k := range slices.Sorted(maps.Keys(defs)) {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(&b, k)
		b.WriteByte(':')
		b.Write(defs[k])
	}
	b.WriteString(`}}`)
	doc, err := jsonschema.UnmarshalJSON(&b)
	if err != nil {
		return nil, err
	}
	jc := newCompiler()
	if err := jc.AddResource(schemaURL, doc); err != nil {
		return nil, err
	}
	return jc.Compile(schemaURL + "#/$defs/" + escapePointer(name))
}

// checkDef compiles a shared definition on its own.
func (c *Catalog) checkDef(name string, schema json.RawMessage) error {
	if _, err := c.compileIn(name, schema); err != nil {
		return fmt.Errorf("%w: shared definition %q: %w", ErrInvalid, name, newSchemaError(err, name))
	}
	return nil
}

// schemaError is a schema that does not compile.
type schemaError struct {
	ptr    string // JSON pointer into the schema; "" when unknown
	reason string
}

func (e *schemaError) Error() string {
	if e.ptr == "" {
		return "schema: " + e.reason
	}
	return "schema at " + e.ptr + ": " + e.reason
}

// compile checks everything of ev and compiles its schema.
func (c *Catalog) compile(ev Event) (*compiled, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: event %q: %s", ErrInvalid, ev.Name, fmt.Sprintf(format, args...))
	}
	ev = ev.clone()
	if len(bytes.TrimSpace(ev.Schema)) == 0 {
		ev.Schema = json.RawMessage(`{}`)
	}
	schema, err := compactObject(ev.Schema)
	if err != nil {
		return nil, bad("schema: %v", err)
	}
	var top map[string]json.RawMessage
	_ = json.Unmarshal(schema, &top)
	for _, k := range []string{"$id", "$schema", "x-ssehub"} {
		if _, ok := top[k]; ok {
			return nil, bad("schema: %q is not allowed in an event's schema (a catalog is one draft 2020-12 document; x-ssehub is written by the catalog)", k)
		}
	}
	ev.Schema = schema
	ce := &compiled{ev: ev}
	ce.schema, err = c.compileIn(ev.Name, schema)
	if err != nil {
		return nil, fmt.Errorf("%w: event %q: %w", ErrInvalid, ev.Name, newSchemaError(err, ev.Name))
	}
	if rl := ev.RateLimit; rl != nil {
		if rl.Interval <= 0 {
			return nil, bad("rateLimit: interval must be positive, got %v", rl.Interval)
		}
		switch rl.Mode {
		case "":
			ce.ev.RateLimit.Mode = ModeDrop
		case ModeDrop, ModeCoalesce:
		default:
			return nil, bad("rateLimit: mode %q is not %s or %s", rl.Mode, ModeDrop, ModeCoalesce)
		}
		if _, err := ratelimit.ParseField(rl.By); err != nil {
			return nil, bad("rateLimit: by: %v", err)
		}
	}
	for _, t := range ev.Targets {
		i := slices.Index(TargetKinds, t)
		if i < 0 {
			return nil, bad("targets: %q is not one of %s", t, strings.Join(TargetKinds, ", "))
		}
		if ce.targets&(1<<i) != 0 {
			return nil, bad("targets: %q listed twice", t)
		}
		ce.targets |= 1 << i
	}
	for _, path := range slices.Sorted(maps.Keys(ev.Sanitize)) {
		r, err := parseRule(path, ev.Sanitize[path])
		if err != nil {
			return nil, bad("sanitize: %v", err)
		}
		ce.sanitize = append(ce.sanitize, r)
	}
	return ce, nil
}

// newSchemaError explains a compile error of definition name without the
// internal document URL.
func newSchemaError(err error, name string) *schemaError {
	prefix := "/$defs/" + escapePointer(name)
	var sve *jsonschema.SchemaValidationError
	if errors.As(err, &sve) {
		var ve *jsonschema.ValidationError
		if errors.As(sve.Err, &ve) {
			leaf := bestLeaf(ve)
			at := strings.TrimPrefix(jsonPointer(leaf.InstanceLocation), prefix)
			if at == "" {
				at = "/"
			}
			return &schemaError{ptr: at, reason: leaf.ErrorKind.LocalizedString(printer)}
		}
	}
	msg := err.Error()
	msg = strings.ReplaceAll(msg, schemaURL+"#"+prefix, "#")
	msg = strings.ReplaceAll(msg, schemaURL, "catalog")
	return &schemaError{reason: msg}
}

// firstLeaf follows the first cause down to the most specific error.
func firstLeaf(ve *jsonschema.ValidationError) *jsonschema.ValidationError {
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	return ve
}

// compactObject checks that raw is one JSON object and compacts it.
func compactObject(raw json.RawMessage) (json.RawMessage, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if b.Len() == 0 || b.Bytes()[0] != '{' {
		return nil, errors.New("must be a JSON object")
	}
	return b.Bytes(), nil
}

// escapePointer escapes one JSON pointer token.
func escapePointer(tok string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(tok)
}

// jsonPointer joins unescaped tokens into a JSON pointer.
func jsonPointer(toks []string) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteByte('/')
		b.WriteString(escapePointer(t))
	}
	return b.String()
}

func writeString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s)
	b.Write(enc)
}
