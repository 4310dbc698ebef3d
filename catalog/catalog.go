package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/ratelimit"
)

// Errors of the catalog. Validate and CheckTarget wrap them with the event
// name; callers test with errors.Is.
var (
	// ErrUnknownEvent means the event is not in a catalog that does not
	// allow unknown events.
	ErrUnknownEvent = errors.New("catalog: unknown event")
	// ErrTargetNotAllowed means the event may not be sent to that kind of
	// target.
	ErrTargetNotAllowed = errors.New("catalog: target not allowed for event")
	// ErrInvalid means a catalog definition (file, Event or Go type) is
	// wrong; the wrapping error says where and why.
	ErrInvalid = errors.New("catalog: invalid definition")
)

// The rate-limit modes of [RateLimit].
const (
	// ModeDrop refuses events over the limit (the publisher gets 429).
	ModeDrop = "drop"
	// ModeCoalesce keeps the latest event of a window and delivers it at
	// the window's end, so the final state is never lost.
	ModeCoalesce = "coalesce"
)

// The sanitizing policies of [Event.Sanitize].
const (
	// PolicyStrict removes every HTML element, leaving escaped text
	// (bluemonday.StrictPolicy).
	PolicyStrict = "strict"
	// PolicyUGC keeps the safe formatting HTML of user-generated content
	// and removes scripts, event handlers, javascript: URLs and the like
	// (bluemonday.UGCPolicy).
	PolicyUGC = "ugc"
)

// TargetKinds are the target kinds an [Event.Targets] list may name, the
// names of broker.TargetKind.
var TargetKinds = []string{"user", "users", "tenant", "channel", "broadcast"}

// RateLimit limits how often an event may be delivered to one target.
type RateLimit struct {
	// Interval is the window: at most one event per Interval.
	Interval time.Duration
	// Mode is ModeDrop or ModeCoalesce. Empty means ModeDrop.
	Mode string
	// By, when set, names a payload field (a JSON pointer or a dotted
	// path) whose value separates the windows: the limit applies per
	// target and per value, e.g. per sender with "userId", so in a group
	// chat one user's latest chat:typing never hides another's.
	By string
}

// Event is one event of a catalog: its name, the JSON Schema of its
// payload and its delivery policies.
type Event struct {
	// Name is the event name: letters, digits and . _ : -, up to 64
	// characters, not starting with sse:.
	Name string
	// Description documents the event; codegen turns it into JSDoc. It
	// becomes the schema's description when the schema has none.
	Description string
	// Schema is the JSON Schema (draft 2020-12) of the payload. Nil or
	// empty means any JSON value. It may refer to the catalog's shared
	// definitions as {"$ref": "#/$defs/Name"}.
	Schema json.RawMessage
	// RateLimit, when set, limits the event per target.
	RateLimit *RateLimit
	// Sanitize maps the string fields that hold user content to
	// PolicyStrict or PolicyUGC. A field is a JSON pointer ("/message/text")
	// or a dotted path ("message.text"); the segment * matches every
	// element of an array or member of an object ("items.*.body").
	Sanitize map[string]string
	// Targets lists the target kinds the event may use (see TargetKinds).
	// Empty means all of them.
	Targets []string
}

// compiled is an Event ready for validation.
type compiled struct {
	ev       Event
	schema   *jsonschema.Schema
	sanitize []rule
	targets  uint8 // bit i set: TargetKinds[i] allowed; 0: all
}

// Catalog is a set of events with their payload schemas and policies.
//
// The zero value is an empty catalog that refuses every event. Build it
// with [Load], [LoadFile], [Catalog.AddEvent] or [Add]; once built, its
// read methods ([Catalog.Validate], [Catalog.CheckTarget],
// [Catalog.JSONSchema], [Catalog.ServeHTTP], …) are safe for concurrent
// use. Adding events while it is in use is not.
type Catalog struct {
	// AllowUnknown lets events that are not in the catalog through,
	// unvalidated. False means they are refused with ErrUnknownEvent.
	AllowUnknown bool

	events map[string]*compiled
	defs   map[string]json.RawMessage // shared $defs, compact JSON
}

// AddEvent validates ev, compiles its schema and adds it to the catalog.
// An event of the same name is an error.
func (c *Catalog) AddEvent(ev Event) error {
	if err := hub.ValidateEventName(ev.Name); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if _, dup := c.events[ev.Name]; dup {
		return fmt.Errorf("%w: event %q defined twice", ErrInvalid, ev.Name)
	}
	if _, dup := c.defs[ev.Name]; dup {
		return fmt.Errorf("%w: event %q has the name of a shared definition", ErrInvalid, ev.Name)
	}
	ce, err := c.compile(ev)
	if err != nil {
		return err
	}
	if c.events == nil {
		c.events = map[string]*compiled{}
	}
	c.events[ev.Name] = ce
	return nil
}

// AddDef adds a shared definition that event schemas refer to as
// {"$ref": "#/$defs/<name>"}. Adding the same name again with an equal
// schema is a no-op; with another schema it is an error. Add shared
// definitions before the events that use them.
func (c *Catalog) AddDef(name string, schema json.RawMessage) error {
	if name == "" || len(name) > 128 || !validDefName(name) {
		return fmt.Errorf("%w: shared definition name %q: use letters, digits and . _ -", ErrInvalid, name)
	}
	if _, dup := c.events[name]; dup {
		return fmt.Errorf("%w: shared definition %q has the name of an event", ErrInvalid, name)
	}
	compact, err := compactObject(schema)
	if err != nil {
		return fmt.Errorf("%w: shared definition %q: %w", ErrInvalid, name, err)
	}
	if old, ok := c.defs[name]; ok {
		if string(old) == string(compact) {
			return nil
		}
		return fmt.Errorf("%w: shared definition %q defined twice with different schemas", ErrInvalid, name)
	}
	if err := c.checkDef(name, compact); err != nil {
		return err
	}
	if c.defs == nil {
		c.defs = map[string]json.RawMessage{}
	}
	c.defs[name] = compact
	return nil
}

func validDefName(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '.' || b == '_' || b == '-') {
			return false
		}
	}
	return true
}

// Event returns the named event, as added.
func (c *Catalog) Event(name string) (Event, bool) {
	ce, ok := c.events[name]
	if !ok {
		return Event{}, false
	}
	return ce.ev.clone(), true
}

// Events returns the catalog's events sorted by name.
func (c *Catalog) Events() []Event {
	out := make([]Event, 0, len(c.events))
	for _, name := range slices.Sorted(maps.Keys(c.events)) {
		out = append(out, c.events[name].ev.clone())
	}
	return out
}

// Len returns the number of events.
func (c *Catalog) Len() int { return len(c.events) }

// RateLimits returns the rate limit of every event that has one, by event
// name, for the hub's rate limiter.
func (c *Catalog) RateLimits() map[string]RateLimit {
	out := map[string]RateLimit{}
	for name, ce := range c.events {
		if ce.ev.RateLimit != nil {
			out[name] = *ce.ev.RateLimit
		}
	}
	return out
}

// RateLimitRules returns RateLimits as the hub's rate-limit rules
// (hub.Config.RateLimits). Events without a limit are absent: merge the
// result over ratelimit.Defaults() to keep the seed's defaults for events
// the catalog does not limit.
func (c *Catalog) RateLimitRules() map[string]ratelimit.Rule {
	out := map[string]ratelimit.Rule{}
	for name, rl := range c.RateLimits() {
		mode, err := ratelimit.ParseMode(rl.Mode)
		if err != nil {
			mode = ratelimit.Drop // unreachable: modes are checked at AddEvent
		}
		out[name] = ratelimit.Rule{Interval: rl.Interval, Mode: mode, By: rl.By}
	}
	return out
}

func (ev Event) clone() Event {
	ev.Schema = slices.Clone(ev.Schema)
	if ev.RateLimit != nil {
		rl := *ev.RateLimit
		ev.RateLimit = &rl
	}
	ev.Sanitize = maps.Clone(ev.Sanitize)
	ev.Targets = slices.Clone(ev.Targets)
	return ev
}
