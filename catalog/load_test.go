package catalog_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ssehub/ssehub/catalog"
	"github.com/ssehub/ssehub/ratelimit"
)

const exampleFile = "../examples/catalog/catalog.yaml"

func TestLoadExample(t *testing.T) {
	c, err := catalog.LoadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ev := range c.Events() {
		names = append(names, ev.Name)
	}
	want := "chat:message chat:typing data:update invoice:created notification:new presence:update system:announcement"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("got events %s, want %s", got, want)
	}
	typing, _ := c.Event("chat:typing")
	if rl := typing.RateLimit; rl == nil || rl.Interval.String() != "1s" || rl.Mode != catalog.ModeCoalesce {
		t.Errorf("chat:typing rate limit: got %+v, want 1s coalesce", rl)
	}
	presence, _ := c.Event("presence:update")
	if rl := presence.RateLimit; rl == nil || rl.Interval.String() != "5s" || rl.Mode != catalog.ModeCoalesce {
		t.Errorf("presence:update rate limit: got %+v, want 5s coalesce", rl)
	}
	ann, _ := c.Event("system:announcement")
	if strings.Join(ann.Targets, ",") != "broadcast" {
		t.Errorf("system:announcement targets: got %v, want [broadcast]", ann.Targets)
	}
	notif, _ := c.Event("notification:new")
	if notif.Sanitize["title"] != catalog.PolicyStrict || notif.Sanitize["message"] != catalog.PolicyUGC {
		t.Errorf("notification:new sanitize: got %v", notif.Sanitize)
	}
	if got := len(c.RateLimits()); got != 2 {
		t.Errorf("got %d rate limits, want 2", got)
	}
	rules := c.RateLimitRules()
	if r := rules["presence:update"]; r.Interval != 5*time.Second || r.Mode != ratelimit.Coalesce || len(rules) != 2 {
		t.Errorf("RateLimitRules: got %+v", rules)
	}
	if c.AllowUnknown {
		t.Error("AllowUnknown: got true, want false")
	}
}

func TestLoadJSON(t *testing.T) {
	c, err := catalog.Load(strings.NewReader(`{
	"allowUnknown": true,
	"events": {
		"order:paid": {
			"description": "An order was paid.",
			"schema": {"type": "object", "properties": {"amount": {"type": "number", "minimum": 0.5}}, "required": ["amount"]},
			"rateLimit": {"interval": "250ms"},
			"targets": ["tenant"]
		}
	}
}`))
	if err != nil {
		t.Fatal(err)
	}
	ev, ok := c.Event("order:paid")
	if !ok || !c.AllowUnknown {
		t.Fatalf("got %+v, allowUnknown %v", ev, c.AllowUnknown)
	}
	if ev.RateLimit.Mode != catalog.ModeDrop {
		t.Errorf("default mode: got %q, want drop", ev.RateLimit.Mode)
	}
	if got, want := string(ev.Schema), `{"type":"object","properties":{"amount":{"type":"number","minimum":0.5}},"required":["amount"]}`; got != want {
		t.Errorf("schema: got %s, want %s", got, want)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", ``, "empty catalog"},
		{"not a mapping", `[1, 2]`, "must be a mapping"},
		{"syntax", "events:\n  a: [\n", "catalog:2: did not find expected node content"},
		{"unknown top key", "events: {}\nevent: {}\n", `catalog:2:1: unknown key "event"`},
		{"no events", "allowUnknown: true\n", "no events"},
		{"bad version", "version: 2\nevents: {}\n", "catalog:1:10: version: only 1"},
		{"unknown event key", "events:\n  a:\n    schemas: {}\n", `catalog:3:5: event "a": unknown key "schemas"`},
		{"bad name", "events:\n  'a b': {}\n", `catalog:2:3: invalid event name: "a b"`},
		{"reserved name", "events:\n  sse:ready: {}\n", "catalog:2:3: event names starting with sse: are reserved"},
		{"long name", "events:\n  " + strings.Repeat("x", 65) + ": {}\n", "invalid event name"},
		{"duplicate event", "events:\n  a: {}\n  a: {}\n", `catalog:3:3: events: key "a" defined twice`},
		{"duplicate property", "events:\n  a:\n    schema:\n      properties: {x: {}, x: {}}\n", `key "x" defined twice`},
		{"bad schema type", "events:\n  a:\n    schema:\n      type: object\n      properties:\n        n: {type: strin}\n", `catalog:6:19: event "a": schema at /properties/n/type:`},
		{"bad schema keyword value", "events:\n  a:\n    schema:\n      minLength: -1\n", `catalog:4:18: event "a": schema at /minLength:`},
		{"bad regexp", "events:\n  a:\n    schema: {pattern: '('}\n", `schema at /pattern`},
		{"schema not an object", "events:\n  a:\n    schema: true\n", "must be a JSON object"},
		{"schema $id", "events:\n  a:\n    schema: {$id: 'urn:x'}\n", `"$id" is not allowed`},
		{"external ref", "events:\n  a:\n    schema: {$ref: 'file:///etc/passwd'}\n", "a catalog may refer only to its own #/$defs"},
		{"missing def", "events:\n  a:\n    schema: {$ref: '#/$defs/Nope'}\n", `event "a"`},
		{"bad interval", "events:\n  a:\n    rateLimit: {interval: soon}\n", `catalog:3:27: event "a": rateLimit.interval: "soon" is not a duration`},
		{"zero interval", "events:\n  a:\n    rateLimit: {interval: 0s}\n", "interval must be positive"},
		{"no interval", "events:\n  a:\n    rateLimit: {mode: drop}\n", "interval is required"},
		{"bad mode", "events:\n  a:\n    rateLimit: {interval: 1s, mode: queue}\n", `mode "queue" is not drop or coalesce`},
		{"rateLimit unknown key", "events:\n  a:\n    rateLimit: {interval: 1s, burst: 3}\n", `rateLimit: unknown key "burst"`},
		{"bad policy", "events:\n  a:\n    sanitize: {text: html}\n", `catalog:3:22: event "a": sanitize: "text": policy "html" is not strict or ugc`},
		{"empty sanitize path", "events:\n  a:\n    sanitize: {'/': ugc}\n", "empty path"},
		{"bad pointer", "events:\n  a:\n    sanitize: {'/a~2': ugc}\n", "~ must be followed by 0 or 1"},
		{"bad target", "events:\n  a:\n    targets: [user, room]\n", `targets: "room" is not one of user, users, tenant, channel, broadcast`},
		{"targets twice", "events:\n  a:\n    targets: [user, user]\n", `"user" listed twice`},
		{"targets not a list", "events:\n  a:\n    targets: user\n", "targets"},
		{"bad def name", "$defs:\n  'a b': {}\nevents: {}\n", `shared definition name "a b"`},
		{"bad def", "$defs:\n  A: {type: 1}\nevents: {}\n", `catalog:2:13: shared definition "A": schema at /type`},
		{"def named like event", "$defs:\n  a: {}\nevents:\n  a: {}\n", "has the name of a shared definition"},
		{"merge key", "x: &x {schema: {}}\nevents:\n  a:\n    <<: *x\n", "unknown key"},
		{"infinity", "events:\n  a:\n    schema: {maximum: .inf}\n", "has no JSON form"},
		{"alias bomb", aliasBomb(), "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := catalog.Load(strings.NewReader(tc.in))
			if err == nil {
				t.Fatalf("got no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, want it to contain %q", err, tc.want)
			}
			if !errors.Is(err, catalog.ErrInvalid) {
				t.Errorf("got %v, want errors.Is ErrInvalid", err)
			}
		})
	}
}

// aliasBomb nests aliases so that a schema would expand to 10^9 nodes.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("events:\n  a:\n    schema:\n      x-a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "      x-a%d: &a%d [", i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	b.WriteString("      enum: *a8\n")
	return b.String()
}

func TestLoadFileName(t *testing.T) {
	_, err := catalog.LoadFile("testdata/bad.yaml")
	if err == nil || !strings.HasPrefix(err.Error(), "testdata/bad.yaml:4:") {
		t.Errorf("got %v, want an error starting with testdata/bad.yaml:4:", err)
	}
	var le *catalog.LoadError
	if !errors.As(err, &le) || le.Line != 4 || le.File != "testdata/bad.yaml" {
		t.Errorf("got %#v, want a *LoadError at line 4", err)
	}
	if _, err := catalog.LoadFile("testdata/missing.yaml"); err == nil || errors.Is(err, catalog.ErrInvalid) {
		t.Errorf("missing file: got %v, want a not-found error", err)
	}
}
