package codegen

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Python generates a Python module from an ssehub catalog JSON Schema
// document (catalog.Catalog.JSONSchema, GET /api/events/schema): a
// TypedDict per object payload (nested objects get their own, named after
// the path: ChatMessageMessage), type aliases for the rest, and
//
//	EVENTS = {'chat:message': ChatMessage, …}          # event → payload type
//	EVENT_TARGETS = {'chat:message': ('user', …), …}   # event → target kinds
//	class Publisher(ssehub.Publisher): …               # emit() overloaded per event
//
// The module needs only the standard library and the ssehub package
// (clients/python), and Python 3.11 (typing.NotRequired).
//
// Type mapping: properties not in required are NotRequired; string is str,
// integer int, number float, boolean bool, null None; enum and const
// become Literal; oneOf, anyOf and a type list become Union; null adds
// Optional; an object without properties is dict[str, T]; $ref to
// #/$defs/X names X's type. TypedDict cannot say "closed" or "extra keys
// allowed", nor intersect (allOf): those are left to the server, which
// validates every publish against the catalog.
func Python(schemaJSON []byte) ([]byte, error) {
	doc, err := parseValue(schemaJSON)
	if err != nil {
		return nil, fmt.Errorf("codegen: the catalog schema is not valid JSON: %w", err)
	}
	defs := doc.get("$defs")
	if doc.kind != 'o' || defs == nil || defs.kind != 'o' {
		return nil, errors.New("codegen: the catalog schema has no $defs (is it an ssehub catalog?)")
	}
	g := &pyGen{defs: map[string]*value{}, names: map[string]string{}, used: map[string]bool{}}
	var shared []string
	for _, m := range defs.members {
		g.defs[m.key] = m.val
		if ext := m.val.get("x-ssehub"); ext != nil && ext.getString("event") != "" {
			g.events = append(g.events, event{name: ext.getString("event"), key: m.key, schema: m.val, ext: ext})
		} else {
			shared = append(shared, m.key)
		}
	}
	if len(g.events) == 0 {
		return nil, errors.New("codegen: the catalog has no events")
	}
	slices.SortFunc(g.events, func(a, b event) int { return strings.Compare(a.name, b.name) })
	slices.Sort(shared)
	for i := range g.events {
		e := &g.events[i]
		want := identifier(e.schema.getString("title"))
		if want == "" {
			want = pascal(e.name)
		}
		e.tsName = g.claim(want)
		g.names[e.key] = e.tsName
	}
	for _, k := range shared {
		g.names[k] = g.claim(pascal(k))
	}
	// Shared definitions first, then the events; each declaration is
	// written after the nested types it needs.
	for _, k := range shared {
		g.declare(g.names[k], g.defs[k], schemaDoc(g.defs[k]))
	}
	for _, e := range g.events {
		g.declare(e.tsName, e.schema, eventDoc(e))
	}
	return []byte(g.module()), nil
}

// pyReserved are names a generated type must not take.
var pyReserved = map[string]bool{
	"EVENTS": true, "EVENT_TARGETS": true, "Publisher": true, "Any": true, "Literal": true,
	"NotRequired": true, "Optional": true, "TypedDict": true, "Union": true, "overload": true, "ssehub": true,
}

// pyKeywords cannot be a TypedDict class-syntax key.
var pyKeywords = map[string]bool{
	"False": true, "None": true, "True": true, "and": true, "as": true, "assert": true, "async": true,
	"await": true, "break": true, "class": true, "continue": true, "def": true, "del": true, "elif": true,
	"else": true, "except": true, "finally": true, "for": true, "from": true, "global": true, "if": true,
	"import": true, "in": true, "is": true, "lambda": true, "nonlocal": true, "not": true, "or": true,
	"pass": true, "raise": true, "return": true, "try": true, "while": true, "with": true, "yield": true,
}

type pyGen struct {
	defs   map[string]*value
	names  map[string]string // $defs key → Python name
	used   map[string]bool
	events []event
	done   map[string]bool // names already written
	b      strings.Builder
}

func (g *pyGen) claim(want string) string {
	name := want
	for i := 2; g.used[name] || pyReserved[name]; i++ {
		name = fmt.Sprintf("%s%d", want, i)
	}
	g.used[name] = true
	return name
}

// declare writes name as a TypedDict for an object schema with properties,
// an alias otherwise.
func (g *pyGen) declare(name string, s *value, doc []string) {
	if g.done == nil {
		g.done = map[string]bool{}
	}
	g.done[name] = true
	if isPlainObject(s) {
		g.typedDict(name, s, doc)
		return
	}
	t := g.typeOf(s, name, true)
	g.b.WriteString("\n\n")
	if len(doc) > 0 {
		g.b.WriteString(pyComment("", doc))
	}
	fmt.Fprintf(&g.b, "%s = %s\n", name, t)
}

func (g *pyGen) typedDict(name string, s *value, doc []string) {
	props := s.get("properties")
	required := s.strings("required")
	type field struct {
		key, typ string
		doc      []string
	}
	classSyntax := true
	for _, m := range props.members {
		if !isIdentifier(m.key) || pyKeywords[m.key] || strings.ContainsRune(m.key, '$') {
			classSyntax = false
		}
	}
	var fields []field
	for _, m := range props.members {
		t := g.typeOf(m.val, name+pascal(m.key), true)
		if !slices.Contains(required, m.key) {
			t = "NotRequired[" + t + "]"
		}
		fields = append(fields, field{m.key, t, schemaDoc(m.val)})
	}
	if !classSyntax {
		g.b.WriteString("\n\n")
		// Keys that are not identifiers need the functional syntax.
		if len(doc) > 0 {
			g.b.WriteString(pyComment("", doc))
		}
		fmt.Fprintf(&g.b, "%s = TypedDict(\n    %q,\n    {\n", name, name)
		for _, f := range fields {
			if len(f.doc) > 0 {
				g.b.WriteString(pyComment("        ", f.doc))
			}
			fmt.Fprintf(&g.b, "        %s: %s,\n", pyString(f.key), f.typ)
		}
		g.b.WriteString("    },\n)\n")
		return
	}
	fmt.Fprintf(&g.b, "\n\nclass %s(TypedDict):\n", name)
	if len(doc) > 0 {
		g.b.WriteString(pyDocstring("    ", doc))
	}
	for _, f := range fields {
		if len(f.doc) > 0 {
			g.b.WriteString(pyComment("    ", f.doc))
		}
		fmt.Fprintf(&g.b, "    %s: %s\n", f.key, f.typ)
	}
}

// typeOf renders s as a Python type expression. A nested object with
// properties is declared as its own TypedDict named hint (written before
// the declaration that uses it). quote asks for named types in quotes
// (forward references): annotations are evaluated, since the module does
// not use "from __future__ import annotations" (with it, Python 3.11's
// TypedDict takes NotRequired fields for required ones).
func (g *pyGen) typeOf(s *value, hint string, quote bool) string {
	if s == nil || s.kind != 'o' {
		if s != nil && s.kind == 'b' && !s.b {
			return "NoReturn"
		}
		return "Any"
	}
	named := func(n string) string {
		if quote {
			return pyString(n)
		}
		return n
	}
	var union []string
	switch {
	case s.has("$ref"):
		key, ok := strings.CutPrefix(s.getString("$ref"), "#/$defs/")
		key = strings.NewReplacer("~1", "/", "~0", "~").Replace(key)
		if n, found := g.names[key]; ok && found {
			union = append(union, named(n))
		} else {
			union = append(union, "Any")
		}
	case s.has("const"):
		union = append(union, pyLiteral([]*value{s.get("const")}))
	case s.get("enum") != nil && s.get("enum").kind == 'a':
		union = append(union, pyLiteral(s.get("enum").items))
	case isPlainObject(s) || (len(typeList(s)) > 1 && s.has("properties")):
		n := g.claim(hint)
		sub := *s
		sub.members = slices.DeleteFunc(slices.Clone(s.members), func(m member) bool { return m.key == "type" })
		if !g.done[n] {
			g.declare(n, &sub, schemaDoc(s))
		}
		union = append(union, named(n))
		for _, t := range typeList(s) {
			if t == "null" {
				union = append(union, "None")
			}
		}
	default:
		types := typeList(s)
		if len(types) == 0 && (s.has("additionalProperties") || s.has("patternProperties")) {
			types = []string{"object"}
		}
		if len(types) == 0 && s.has("items") {
			types = []string{"array"}
		}
		for _, t := range types {
			switch t {
			case "string":
				union = append(union, "str")
			case "integer":
				union = append(union, "int")
			case "number":
				union = append(union, "float")
			case "boolean":
				union = append(union, "bool")
			case "null":
				union = append(union, "None")
			case "array":
				union = append(union, "list["+g.typeOf(s.get("items"), hint+"Item", quote)+"]")
			case "object":
				ap := s.get("additionalProperties")
				if ap != nil && ap.kind == 'o' {
					union = append(union, "dict[str, "+g.typeOf(ap, hint+"Value", quote)+"]")
				} else {
					union = append(union, "dict[str, Any]")
				}
			default:
				union = append(union, "Any")
			}
		}
	}
	for _, kw := range []string{"oneOf", "anyOf"} {
		if alts := s.get(kw); alts != nil && alts.kind == 'a' {
			for i, it := range alts.items {
				union = append(union, g.typeOf(it, fmt.Sprintf("%s%d", hint, i+1), quote))
			}
		}
	}
	if n := s.get("nullable"); n != nil && n.kind == 'b' && n.b {
		union = append(union, "None")
	}
	return pyUnion(union)
}

// pyUnion joins alternatives: Any absorbs the rest, None goes last as
// Optional.
func pyUnion(alts []string) string {
	var out []string
	null := false
	for _, a := range alts {
		switch {
		case a == "Any":
			return "Any"
		case a == "None":
			null = true
		case !slices.Contains(out, a):
			out = append(out, a)
		}
	}
	var t string
	switch len(out) {
	case 0:
		if null {
			return "None"
		}
		return "Any"
	case 1:
		t = out[0]
	default:
		t = "Union[" + strings.Join(out, ", ") + "]"
	}
	if null {
		return "Optional[" + t + "]"
	}
	return t
}

// pyLiteral renders enum or const values; null becomes None beside the
// Literal.
func pyLiteral(vals []*value) string {
	var lits []string
	null := false
	for _, v := range vals {
		switch v.kind {
		case 's':
			lits = append(lits, pyString(v.str))
		case 'n':
			lits = append(lits, v.str)
		case 'b':
			lits = append(lits, map[bool]string{true: "True", false: "False"}[v.b])
		case 'z':
			null = true
		default:
			return "Any"
		}
	}
	alts := []string{}
	if len(lits) > 0 {
		alts = append(alts, "Literal["+strings.Join(lits, ", ")+"]")
	}
	if null {
		alts = append(alts, "None")
	}
	return pyUnion(alts)
}

// pyString is a double-quoted Python string literal (JSON's escapes are
// Python's).
func pyString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func pyComment(ind string, lines []string) string {
	var b strings.Builder
	for _, line := range lines {
		b.WriteString(strings.TrimRight(ind+"#: "+line, " ") + "\n")
	}
	return b.String()
}

func pyDocstring(ind string, lines []string) string {
	lines = slices.Clone(lines)
	for i, l := range lines {
		l = strings.ReplaceAll(l, `\`, `\\`)
		lines[i] = strings.ReplaceAll(l, `"""`, `\"\"\"`)
	}
	if len(lines) == 1 {
		return ind + `"""` + lines[0] + `"""` + "\n\n"
	}
	var b strings.Builder
	b.WriteString(ind + `"""` + lines[0] + "\n")
	for _, l := range lines[1:] {
		b.WriteString(strings.TrimRight(ind+l, " ") + "\n")
	}
	b.WriteString(ind + `"""` + "\n\n")
	return b.String()
}

var pyTargetTypes = map[string]string{
	"user": "ssehub.UserTarget", "users": "ssehub.UsersTarget", "tenant": "ssehub.TenantTarget",
	"channel": "ssehub.ChannelTarget", "broadcast": "ssehub.BroadcastTarget",
}

func (g *pyGen) module() string {
	var b strings.Builder
	b.WriteString(`# Code generated by ssehub gen python. DO NOT EDIT.
# Source: the ssehub event catalog (GET /api/events/schema).
#
# The payload types of the catalog's events, and a Publisher whose emit()
# is typed by them:
#
#   pub = Publisher("http://127.0.0.1:8080", token)
#   pub.emit("chat:typing", {"conversationId": "c1", "userId": "u1", "isTyping": True},
#            ssehub.to_channel("conversation:c1"), tenant_id="t1")
"""Typed payloads of an ssehub event catalog (generated)."""

{{imports}}

import ssehub

__all__ = [
`)
	all := []string{"EVENTS", "EVENT_TARGETS", "Publisher"}
	for n := range g.done {
		all = append(all, n)
	}
	slices.Sort(all)
	for _, n := range all {
		fmt.Fprintf(&b, "    %s,\n", pyString(n))
	}
	b.WriteString("]\n")
	b.WriteString(g.b.String())
	b.WriteString("\n\n#: Every event of the catalog: event name → payload type.\nEVENTS: dict[str, Any] = {\n")
	for _, e := range g.events {
		fmt.Fprintf(&b, "    %s: %s,\n", pyString(e.name), e.tsName)
	}
	b.WriteString("}\n\n#: The target kinds each event may be sent to.\nEVENT_TARGETS: dict[str, tuple[str, ...]] = {\n")
	for _, e := range g.events {
		fmt.Fprintf(&b, "    %s: (%s),\n", pyString(e.name), pyTuple(g.targets(e)))
	}
	b.WriteString("}\n\n\nclass Publisher(ssehub.Publisher):\n")
	b.WriteString(`    """An ssehub.Publisher whose emit() takes only this catalog's events,
    with their payload types and target kinds."""
`)
	for _, e := range g.events {
		var ts []string
		for _, t := range g.targets(e) {
			ts = append(ts, pyTargetTypes[t])
		}
		fmt.Fprintf(&b, `
    @overload
    def emit(
        self,
        event: Literal[%s],
        data: %s,
        target: %s,
        *,
        tenant_id: Optional[str] = None,
        exclude_connection_id: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> ssehub.Receipt: ...
`, pyString(e.name), e.tsName, pyUnion(ts))
	}
	b.WriteString(`
    def emit(self, event: str, data: Any, target: Any, **kwargs: Any) -> ssehub.Receipt:
        return super().emit(event, data, target, **kwargs)
`)
	// Import only the typing names the module uses.
	out := b.String()
	var names []string
	for _, n := range []string{"Any", "Literal", "NoReturn", "NotRequired", "Optional", "TypedDict", "Union", "overload"} {
		if regexp.MustCompile(`\b` + n + `\b`).MatchString(strings.Replace(out, "{{imports}}", "", 1)) {
			names = append(names, n)
		}
	}
	return strings.Replace(out, "{{imports}}", "from typing import "+strings.Join(names, ", "), 1)
}

func (g *pyGen) targets(e event) []string {
	if t := e.ext.strings("targets"); len(t) > 0 {
		return t
	}
	return allTargets
}

func pyTuple(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = pyString(s)
	}
	if len(q) == 1 {
		return q[0] + ","
	}
	return strings.Join(q, ", ")
}
