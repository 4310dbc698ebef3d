package codegen_test

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/ssehub/ssehub/catalog"
	"github.com/ssehub/ssehub/internal/codegen"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const (
	exampleCatalog = "../../examples/catalog/catalog.yaml"
	exampleGolden  = "../../examples/catalog/events.gen.ts"
)

func exampleSchema(t testing.TB) []byte {
	t.Helper()
	c, err := catalog.LoadFile(exampleCatalog)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := c.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestGolden pins the TypeScript of the example catalog. Regenerate with
// go test ./internal/codegen -update.
func TestGolden(t *testing.T) {
	got, err := codegen.TypeScript(exampleSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(exampleGolden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(exampleGolden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go test ./internal/codegen -update", exampleGolden)
	}
	again, _ := codegen.TypeScript(exampleSchema(t))
	if !bytes.Equal(got, again) {
		t.Error("output is not deterministic")
	}
}

// schemaDoc wraps event schemas (name → schema JSON) in a catalog document.
func schemaDoc(t *testing.T, defs string, events map[string]string) []byte {
	t.Helper()
	var c catalog.Catalog
	if defs != "" {
		for _, d := range strings.Split(defs, "\n") {
			name, schema, _ := strings.Cut(d, "=")
			if err := c.AddDef(name, []byte(schema)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, s := range events {
		if err := c.AddEvent(catalog.Event{Name: name, Schema: []byte(s)}); err != nil {
			t.Fatal(err)
		}
	}
	doc, err := c.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestTypeMapping(t *testing.T) {
	for _, tc := range []struct {
		name, defs, schema string
		want               []string
	}{
		{"required and optional", "", `{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"required":["a"]}`,
			[]string{"export interface E {\n  a: string;\n  b?: number;\n}"}},
		{"key order kept", "", `{"type":"object","properties":{"z":{"type":"string"},"a":{"type":"string"}}}`,
			[]string{"  z?: string;\n  a?: string;"}},
		{"quoted keys", "", `{"type":"object","properties":{"content-type":{"type":"string"},"2x":{"type":"number"},"ok_$":{"type":"boolean"}}}`,
			[]string{"  'content-type'?: string;", "  '2x'?: number;", "  ok_$?: boolean;"}},
		{"enum", "", `{"enum":["a","b's",1,true,null]}`, []string{`export type E = 'a' | 'b\'s' | 1 | true | null;`}},
		{"const", "", `{"type":"object","properties":{"k":{"const":"x"}},"required":["k"]}`, []string{"  k: 'x';"}},
		{"nullable type list", "", `{"type":["string","null"]}`, []string{"export type E = string | null;"}},
		{"nullable keyword", "", `{"type":"object","properties":{"a":{"type":"number","nullable":true}}}`, []string{"  a?: number | null;"}},
		{"anyOf with null", "U={\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"}}}", `{"anyOf":[{"$ref":"#/$defs/U"},{"type":"null"}]}`,
			[]string{"export type E = U | null;", "export interface U {\n  id?: string;\n}"}},
		{"oneOf objects", "", `{"oneOf":[{"type":"object","properties":{"k":{"const":"a"}},"required":["k"]},{"type":"object","properties":{"k":{"const":"b"},"n":{"type":"number"}},"required":["k","n"]}]}`,
			[]string{"export type E =\n  | {\n      k: 'a';\n    }\n  | {\n      k: 'b';\n      n: number;\n    };"}},
		{"allOf", "A={\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}\nB={\"type\":\"object\",\"properties\":{\"b\":{\"type\":\"string\"}}}", `{"allOf":[{"$ref":"#/$defs/A"},{"$ref":"#/$defs/B"}]}`,
			[]string{"export type E = A & B;"}},
		{"arrays", "", `{"type":"object","properties":{"a":{"type":"array","items":{"type":"string"}},"b":{"type":"array","items":{"type":["string","number"]}},"c":{"type":"array"},"d":{"type":"array","prefixItems":[{"type":"string"},{"type":"number"}],"items":false}}}`,
			[]string{"  a?: string[];", "  b?: (string | number)[];", "  c?: unknown[];", "  d?: [string, number];"}},
		{"additionalProperties", "", `{"type":"object","properties":{"m":{"type":"object","additionalProperties":{"type":"integer"}},"o":{"type":"object"},"c":{"type":"object","additionalProperties":false},"x":{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":true}}}`,
			[]string{"  m?: Record<string, number>;", "  o?: Record<string, unknown>;", "  c?: Record<string, never>;", "  x?: {\n    a?: string;\n    [key: string]: unknown;\n  };"}},
		{"nested refs", "Money={\"type\":\"object\",\"properties\":{\"amount\":{\"type\":\"integer\"}},\"required\":[\"amount\"]}\nLine={\"type\":\"object\",\"properties\":{\"price\":{\"$ref\":\"#/$defs/Money\"}},\"required\":[\"price\"]}",
			`{"type":"object","properties":{"lines":{"type":"array","items":{"$ref":"#/$defs/Line"}}},"required":["lines"]}`,
			[]string{"  lines: Line[];", "export interface Line {\n  price: Money;\n}", "export interface Money {\n  amount: number;\n}"}},
		{"any", "", `{}`, []string{"export type E = unknown;"}},
		{"jsdoc", "", `{"description":"An event.\nTwo lines.","type":"object","properties":{"a":{"type":"string","description":"Has */ inside.","format":"email","deprecated":true}}}`,
			[]string{"/**\n * An event.\n * Two lines.\n *\n * Payload of the event `e`.\n */", "  /**\n   * Has *\\/ inside.\n   *\n   * @format email\n   * @deprecated\n   */\n  a?: string;"}},
		{"long union", "", `{"enum":["aaaaaaaaaaaa","bbbbbbbbbbbbbb","cccccccccccccccc","dddddddddddddddd","eeeeeeeeeeeeeeeee"]}`,
			[]string{"export type E =\n  | 'aaaaaaaaaaaa'\n  | 'bbbbbbbbbbbbbb'"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, err := codegen.TypeScript(schemaDoc(t, tc.defs, map[string]string{"e": tc.schema}))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(ts), w) {
					t.Errorf("missing\n%s\nin\n%s", w, ts)
				}
			}
		})
	}
}

func TestNames(t *testing.T) {
	ts, err := codegen.TypeScript(schemaDoc(t, "Record={}\nUser={}", map[string]string{
		"user":            `{"title":"User","type":"object","properties":{"a":{"type":"string"}}}`,
		"order.paid-v2":   `{"type":"object","properties":{"a":{"type":"string"}}}`,
		"2fa:requested":   `{"type":"string"}`,
		"title:not-an-id": `{"title":"not an id!","type":"string"}`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"  '2fa:requested': T2faRequested;",
		"  'order.paid-v2': OrderPaidV2;",
		"  'title:not-an-id': NotAnId;",
		"  user: User;",
		"export interface User {",      // the event keeps its title
		"export type User2 = unknown;", // the shared def User gets a suffix
		"export type Record2 = unknown;",
	} {
		if !strings.Contains(string(ts), w) {
			t.Errorf("missing %q in\n%s", w, ts)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`nope`, "not valid JSON"},
		{`[]`, "not a JSON object"},
		{`{}`, "no $defs"},
		{`{"$defs":{"A":{}}}`, "no events"},
		{`{"$defs":{}} x`, "not valid JSON"},
	} {
		if _, err := codegen.TypeScript([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.in, err, tc.want)
		}
	}
}

// TestGoDefinedCatalog generates types from a catalog built from Go types:
// the Go and file forms are one format.
func TestGoDefinedCatalog(t *testing.T) {
	type User struct {
		ID   string `json:"id"`
		Name string `json:"name,omitempty"`
	}
	type ChatMessage struct {
		ConversationID string   `json:"conversationId"`
		Text           string   `json:"text" sanitize:"ugc" jsonschema:"description=The message."`
		Sender         User     `json:"sender"`
		Tags           []string `json:"tags,omitempty"`
		ReplyTo        *string  `json:"replyTo,omitempty"`
	}
	var c catalog.Catalog
	catalog.MustAdd[ChatMessage](&c, "chat:message", catalog.WithTargets("channel"))
	doc, err := c.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	ts, err := codegen.TypeScript(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"  'chat:message': ChatMessage;",
		"export interface ChatMessage {\n  conversationId: string;\n  /** The message. */\n  text: string;\n  sender: User;\n  tags?: string[];\n  replyTo?: string;\n}",
		"export interface User {\n  id: string;\n  name?: string;\n}",
		"  'chat:message': 'channel';",
		"Sanitized HTML: text (ugc).",
	} {
		if !strings.Contains(string(ts), w) {
			t.Errorf("missing\n%s\nin\n%s", w, ts)
		}
	}
}
