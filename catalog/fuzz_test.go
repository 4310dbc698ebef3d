package catalog_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/ssehub/ssehub/catalog"
)

// FuzzLoad feeds the loader arbitrary files: it must never panic, and a
// catalog it accepts must produce a schema document that loads in codegen
// terms (valid JSON).
func FuzzLoad(f *testing.F) {
	if b, err := os.ReadFile(exampleFile); err == nil {
		f.Add(string(b))
	}
	for _, s := range []string{
		"", "{}", "events: {}", "events:\n  a: {}\n", `{"events":{"a":{"schema":{"type":"string"}}}}`,
		"events:\n  a:\n    schema: {$ref: '#/$defs/X'}\n$defs:\n  X: {type: integer}\n",
		"events:\n  a:\n    sanitize: {'/x/*/y': ugc}\n    rateLimit: {interval: 1ms, mode: coalesce}\n",
		"events: &e\n  a: *e\n", "events:\n  a:\n    schema: {x: &x [*x]}\n", "- - - -", "\t{\"events\": 1}",
		"events:\n  a:\n    schema: {minimum: 1e999}\n", "events:\n  a:\n    schema: {pattern: '\\\\p{Foo}'}\n",
		"events:\n  a:\n    schema: {$ref: 'https://example.com/s.json'}\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := catalog.Load(strings.NewReader(in))
		if err != nil {
			return
		}
		doc, err := c.JSONSchema()
		if err != nil || !json.Valid(doc) {
			t.Fatalf("accepted catalog gives schema %q, %v", doc, err)
		}
	})
}

// FuzzValidate feeds Validate arbitrary payloads for every example event:
// it must never panic, and what it returns must be valid JSON that passes
// validation again unchanged (sanitizing is idempotent).
func FuzzValidate(f *testing.F) {
	c, err := catalog.LoadFile(exampleFile)
	if err != nil {
		f.Fatal(err)
	}
	events := c.Events()
	for i, s := range []string{
		goodMessage, `{}`, `[]`, `null`, `"x"`, `1e999`, `{"id":"n","title":"<b>x</b>","message":"<img src=x onerror=alert(1)>"}`,
		`{"id":"n","title":"\u003cscript\u003e","message":"\ud800"}`, `{"message":"<svg onload=alert(1)>","type":"info"}`,
		`{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, `{"title":"a\"b\\c"}`, `{"title"  :  "x" , "id" : "y"}`,
		"{\"id\":\"n\",\"title\":\"t\xff\"}", `{"id":"n","title":"t"} trailing`, `{"id":"n","title":"t"`,
	} {
		f.Add(uint8(i), s)
	}
	f.Fuzz(func(t *testing.T, which uint8, data string) {
		ev := events[int(which)%len(events)].Name
		out, err := c.Validate(context.Background(), ev, json.RawMessage(data))
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("%s %q: returned invalid JSON %q", ev, data, out)
		}
		again, err := c.Validate(context.Background(), ev, out)
		if err != nil || string(again) != string(out) {
			t.Fatalf("%s %q: second pass got %q, %v, want %q", ev, data, again, err, out)
		}
	})
}
