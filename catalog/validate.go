package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// ValidationError is a payload that does not match its event's schema.
type ValidationError struct {
	// Event is the event name.
	Event string
	// Path is the JSON pointer of the offending value in the payload ("" is
	// the payload itself), e.g. "/message/text".
	Path string
	// Reason says what is wrong, e.g. "missing property 'text'".
	Reason string
}

// Field names the offending value in the publish request's terms: "data"
// followed by Path, e.g. "data/message/text".
func (e *ValidationError) Field() string { return "data" + e.Path }

func (e *ValidationError) Error() string {
	at := e.Path
	if at == "" {
		at = "/"
	}
	return fmt.Sprintf("event %q: data at %s: %s", e.Event, at, e.Reason)
}

// Validate sanitizes the user-content fields of data, checks the result
// against the schema of event and returns the data to publish. Check runs
// it for the hub; the HTTP layer answers its errors 422.
//
// An event that is not in the catalog is refused with ErrUnknownEvent,
// unless AllowUnknown is set, in which case data is returned unchanged. A
// payload that does not match returns a *ValidationError naming the path
// and the reason. When ctx carries a target kind (see WithTarget), the
// event's Targets are checked too.
//
// The returned data is data itself when nothing was sanitized; otherwise
// only the sanitized strings differ, byte for byte, so key order and
// number formats are kept.
func (c *Catalog) Validate(ctx context.Context, event string, data json.RawMessage) (json.RawMessage, error) {
	ce, ok := c.events[event]
	if !ok {
		if c.AllowUnknown {
			return data, nil
		}
		return nil, fmt.Errorf("%w: %q", ErrUnknownEvent, event)
	}
	if kind, ok := TargetFromContext(ctx); ok {
		if err := ce.checkTarget(kind); err != nil {
			return nil, err
		}
	}
	if len(ce.sanitize) > 0 {
		// Sanitize first, so that the schema checks what is delivered (a
		// title that was all markup is empty, and minLength refuses it).
		clean, err := sanitizeJSON(ce.sanitize, data)
		if err != nil {
			return nil, &ValidationError{Event: event, Reason: "data is not valid JSON"}
		}
		data = clean
	}
	v, err := decodeJSON(data)
	if err != nil {
		return nil, &ValidationError{Event: event, Reason: "data is not valid JSON"}
	}
	if err := ce.schema.Validate(v); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return nil, &ValidationError{Event: event, Reason: err.Error()}
		}
		leaf := bestLeaf(ve)
		return nil, &ValidationError{Event: event, Path: jsonPointer(leaf.InstanceLocation), Reason: leaf.ErrorKind.LocalizedString(printer)}
	}
	return data, nil
}

// decodeJSON decodes one JSON value with numbers as json.Number, as the
// validator wants, and refuses trailing data.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data")
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("trailing data")
	}
	return v, nil
}

// bestLeaf picks the most useful of the leaf errors: the deepest instance
// location, then the first.
func bestLeaf(ve *jsonschema.ValidationError) *jsonschema.ValidationError {
	best := firstLeaf(ve)
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			if len(e.InstanceLocation) > len(best.InstanceLocation) {
				best = e
			}
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return best
}

// Check is the publish pipeline's hook (hub.Config.Schema): CheckTarget,
// then Validate. Its errors say which field of the publish request they
// are about with a Field method: "event" for an unknown event, "target"
// for a target the event may not go to, "data…" with the JSON pointer for
// a payload the schema refuses.
func (c *Catalog) Check(ctx context.Context, event, targetKind string, data json.RawMessage) (json.RawMessage, error) {
	if err := c.CheckTarget(event, targetKind); err != nil {
		field := "target"
		if errors.Is(err, ErrUnknownEvent) {
			field = "event"
		}
		return nil, &fieldError{field, err}
	}
	return c.Validate(ctx, event, data)
}

// fieldError is an error about one field of a publish request.
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }
func (e *fieldError) Field() string { return e.field }

// CheckTarget reports whether event may be sent to a target of kind
// ("user", "users", "tenant", "channel" or "broadcast", the names of
// broker.TargetKind). Unknown events pass when AllowUnknown is set.
func (c *Catalog) CheckTarget(event, kind string) error {
	ce, ok := c.events[event]
	if !ok {
		if c.AllowUnknown {
			return nil
		}
		return fmt.Errorf("%w: %q", ErrUnknownEvent, event)
	}
	return ce.checkTarget(kind)
}

func (ce *compiled) checkTarget(kind string) error {
	if ce.targets == 0 {
		return nil
	}
	i := slices.Index(TargetKinds, kind)
	if i >= 0 && ce.targets&(1<<i) != 0 {
		return nil
	}
	return fmt.Errorf("%w: %q may be sent to %v, not to %q", ErrTargetNotAllowed, ce.ev.Name, ce.ev.Targets, kind)
}

type targetKey struct{}

// WithTarget returns a context that tells Validate the kind of the
// event's target, so it checks the event's Targets as well.
func WithTarget(ctx context.Context, kind string) context.Context {
	return context.WithValue(ctx, targetKey{}, kind)
}

// TargetFromContext returns the target kind set by WithTarget.
func TargetFromContext(ctx context.Context) (string, bool) {
	if ctx == nil {
		return "", false
	}
	k, ok := ctx.Value(targetKey{}).(string)
	return k, ok
}
