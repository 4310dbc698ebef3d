package catalog

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/invopop/jsonschema"
)

// Option sets a policy of an event added with [Add].
type Option func(*Event)

// WithDescription documents the event (codegen writes it as JSDoc).
func WithDescription(s string) Option { return func(e *Event) { e.Description = s } }

// WithRateLimit limits the event to one per interval and target, with
// mode ModeDrop or ModeCoalesce.
func WithRateLimit(interval time.Duration, mode string) Option {
	return func(e *Event) { e.RateLimit = &RateLimit{Interval: interval, Mode: mode} }
}

// WithRateLimitBy is WithRateLimit per value of a payload field (see
// RateLimit.By), e.g. per sender with by "userId".
func WithRateLimitBy(interval time.Duration, mode, by string) Option {
	return func(e *Event) { e.RateLimit = &RateLimit{Interval: interval, Mode: mode, By: by} }
}

// WithSanitize marks the string field at path (JSON pointer or dotted
// path; * matches any element) as user content cleaned with policy
// (PolicyStrict or PolicyUGC). Struct tags do the same: a string field
// tagged `sanitize:"ugc"` or `sanitize:"strict"` is added by Add.
func WithSanitize(path, policy string) Option {
	return func(e *Event) {
		if e.Sanitize == nil {
			e.Sanitize = map[string]string{}
		}
		e.Sanitize[path] = policy
	}
}

// WithTargets restricts the event to the target kinds (see TargetKinds).
func WithTargets(kinds ...string) Option { return func(e *Event) { e.Targets = kinds } }

// Add adds event name with the JSON Schema of payload type T, derived by
// github.com/invopop/jsonschema from its Go type: json tags name and omit
// fields (a field without omitempty is required), jsonschema tags add
// keywords (`jsonschema:"enum=a,enum=b,description=…"`), nested named
// types become shared $defs, and the schema's title is the type's name
// (the TypeScript interface name). Fields tagged `sanitize:"ugc"` or
// `sanitize:"strict"` are sanitized.
//
// So an embedder's Go types and a standalone catalog file produce the
// same JSON Schema document:
//
//	type ChatMessage struct {
//		ConversationID string `json:"conversationId"`
//		Text           string `json:"text" sanitize:"ugc"`
//	}
//	err := catalog.Add[ChatMessage](c, "chat:message", catalog.WithTargets("channel"))
func Add[T any](c *Catalog, name string, opts ...Option) error {
	t := reflect.TypeFor[T]()
	ev, defs, err := fromGo(t, name)
	if err != nil {
		return err
	}
	for _, opt := range opts {
		opt(&ev)
	}
	for _, k := range slices.Sorted(maps.Keys(defs)) {
		if err := c.AddDef(k, defs[k]); err != nil {
			return fmt.Errorf("%w (from Go type %v of event %q)", err, t, name)
		}
	}
	return c.AddEvent(ev)
}

// MustAdd is like Add but panics on error, for package-level catalogs.
func MustAdd[T any](c *Catalog, name string, opts ...Option) {
	if err := Add[T](c, name, opts...); err != nil {
		panic(err)
	}
}

// reflector is configured so that the schema matches encoding/json.
func reflector() *jsonschema.Reflector {
	return &jsonschema.Reflector{
		Anonymous:      true, // no $id
		ExpandedStruct: true, // the payload type inline, its named fields in $defs
	}
}

// fromGo derives an Event and its shared definitions from type t.
func fromGo(t reflect.Type, name string) (Event, map[string]json.RawMessage, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	r := reflector()
	s := r.ReflectFromType(t)
	s.Version = ""
	defs := map[string]json.RawMessage{}
	for k, d := range s.Definitions {
		raw, err := json.Marshal(d)
		if err != nil {
			return Event{}, nil, fmt.Errorf("%w: Go type %v: %v", ErrInvalid, t, err)
		}
		defs[k] = raw
	}
	s.Definitions = nil
	if s.Title == "" && t.Name() != "" && t.Kind() == reflect.Struct {
		s.Title = exportedName(t)
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return Event{}, nil, fmt.Errorf("%w: Go type %v: %v", ErrInvalid, t, err)
	}
	ev := Event{Name: name, Schema: raw}
	tags := map[string]string{}
	sanitizeTags(t, nil, tags, map[reflect.Type]bool{})
	if len(tags) > 0 {
		ev.Sanitize = tags
	}
	return ev, defs, nil
}

// exportedName is the type's name without type arguments.
func exportedName(t reflect.Type) string {
	n := t.Name()
	if i := strings.IndexByte(n, '['); i >= 0 {
		n = n[:i]
	}
	return n
}

// sanitizeTags collects `sanitize:"…"` struct tags as dotted paths.
func sanitizeTags(t reflect.Type, prefix []string, out map[string]string, seen map[reflect.Type]bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		sanitizeTags(t.Elem(), append(slices.Clone(prefix), "*"), out, seen)
		return
	case reflect.Struct:
	default:
		return
	}
	if seen[t] {
		return // recursive types: tags of the first level only
	}
	seen[t] = true
	defer delete(seen, t)
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, inline := jsonName(f)
		if name == "-" {
			continue
		}
		path := prefix
		if !inline {
			path = append(slices.Clone(prefix), name)
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if p := f.Tag.Get("sanitize"); p != "" && ft.Kind() == reflect.String {
			out[strings.Join(path, ".")] = p
			continue
		}
		if p := f.Tag.Get("sanitize"); p != "" && (ft.Kind() == reflect.Slice || ft.Kind() == reflect.Array) && ft.Elem().Kind() == reflect.String {
			out[strings.Join(append(path, "*"), ".")] = p
			continue
		}
		sanitizeTags(f.Type, path, out, seen)
	}
}

// jsonName returns a field's JSON name as encoding/json sees it, and
// whether the field is an embedded struct whose fields are inlined.
func jsonName(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("json")
	name, _, _ := strings.Cut(tag, ",")
	if tag == "-" {
		return "-", false
	}
	if name == "" {
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && ft.Kind() == reflect.Struct {
			return "", true
		}
		return f.Name, false
	}
	return name, false
}
