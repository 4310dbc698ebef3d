package apidoc

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Markdown renders the API reference (docs/api.md) from the OpenAPI and
// AsyncAPI documents: every endpoint with its authentication, parameters,
// statuses and curl examples, the error codes, and the stream's control
// events. It is a pure function of the documents, so the page cannot
// drift from them (apidoc's tests compare the committed page).
func Markdown(openapi, asyncapi []byte) ([]byte, error) {
	var oa, aa map[string]any
	if err := json.Unmarshal(openapi, &oa); err != nil {
		return nil, fmt.Errorf("apidoc: openapi: %w", err)
	}
	if err := json.Unmarshal(asyncapi, &aa); err != nil {
		return nil, fmt.Errorf("apidoc: asyncapi: %w", err)
	}
	r := &mdWriter{doc: oa}
	r.render(aa)
	return []byte(r.b.String()), nil
}

type mdWriter struct {
	doc map[string]any
	b   strings.Builder
}

func (r *mdWriter) p(format string, args ...any) { fmt.Fprintf(&r.b, format, args...) }

func m(v any, keys ...string) map[string]any {
	cur, _ := v.(map[string]any)
	for _, k := range keys {
		cur, _ = cur[k].(map[string]any)
	}
	return cur
}

func str(v any, keys ...string) string {
	if len(keys) == 0 {
		s, _ := v.(string)
		return s
	}
	s, _ := m(v, keys[:len(keys)-1]...)[keys[len(keys)-1]].(string)
	return s
}

// cell makes text fit a table cell.
func cell(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\n", " "))
	return strings.ReplaceAll(s, "|", `\|`)
}

type operation struct {
	path, method string
	op           map[string]any
}

// resolve follows a local $ref.
func (r *mdWriter) resolve(v map[string]any) map[string]any {
	ref, ok := v["$ref"].(string)
	if !ok {
		return v
	}
	var cur any = r.doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		cur = m(cur)[strings.NewReplacer("~1", "/", "~0", "~").Replace(part)]
	}
	out, _ := cur.(map[string]any)
	return out
}

func (r *mdWriter) operations() []operation {
	var ops []operation
	paths := m(r.doc, "paths")
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		for _, meth := range []string{"get", "head", "post", "put", "patch", "delete"} {
			if op := m(paths[p], meth); op != nil {
				ops = append(ops, operation{p, meth, op})
			}
		}
	}
	return ops
}

func (r *mdWriter) security(op map[string]any) string {
	sec, ok := op["security"].([]any)
	if !ok {
		sec, _ = r.doc["security"].([]any)
	}
	if len(sec) == 0 {
		return "none"
	}
	var names []string
	for _, s := range sec {
		for name := range m(s) {
			switch name {
			case "bearerAuth":
				names = append(names, "bearer JWT")
			case "queryToken":
				names = append(names, "`?access_token=`")
			case "cookieAuth":
				names = append(names, "cookie")
			default:
				names = append(names, name)
			}
		}
	}
	return strings.Join(names, ", ")
}

func statuses(op map[string]any) []string {
	return slices.Sorted(maps.Keys(m(op, "responses")))
}

func (r *mdWriter) render(aa map[string]any) {
	r.p("# API reference\n\n")
	r.p("<!-- Generated from the OpenAPI and AsyncAPI documents (ssehttp/apidoc) by\n")
	r.p("     go test ./ssehttp/apidoc -update. Do not edit: edit ssehttp/apidoc/openapi.yaml. -->\n\n")
	r.p("%s\n\n", strings.TrimSpace(str(r.doc, "info", "description")))
	r.p("The same description, machine-readable: `GET /api/openapi.json` (OpenAPI 3.1)\n")
	r.p("and `GET /api/asyncapi.json` (AsyncAPI 3) on a running server, with the\n")
	r.p("server's event catalog folded in, or `ssehub gen openapi|asyncapi [--catalog FILE]`.\n")
	r.p("Load either in any OpenAPI or AsyncAPI tool (Swagger UI, Redoc, a client generator).\n")
	r.p("Publishing from curl, Python, Go and Node: [publishing.md](publishing.md).\n\n")

	r.p("## Endpoints\n\n| method and path | auth | what | statuses |\n|---|---|---|---|\n")
	for _, o := range r.operations() {
		r.p("| [`%s %s`](#%s) | %s | %s | %s |\n", strings.ToUpper(o.method), o.path, anchor(o),
			r.security(o.op), cell(str(o.op, "summary")), strings.Join(statuses(o.op), ", "))
	}

	r.p("\n## Authentication\n\n")
	schemes := m(r.doc, "components", "securitySchemes")
	for _, name := range slices.Sorted(maps.Keys(schemes)) {
		r.p("- **%s**: %s\n", name, cell(str(schemes[name], "description")))
	}

	r.p("\n## Errors\n\nEvery error is JSON `{\"error\": {\"code\", \"message\", \"field\"?, \"index\"?}}`.\n")
	r.p("Branch on `code`:\n\n| status | codes and meaning |\n|---|---|\n")
	responses := m(r.doc, "components", "responses")
	byStatus := map[string][]string{}
	for _, o := range r.operations() {
		for st, resp := range m(o.op, "responses") {
			if ref := str(resp, "$ref"); ref != "" {
				name := ref[strings.LastIndex(ref, "/")+1:]
				if !slices.Contains(byStatus[st], name) {
					byStatus[st] = append(byStatus[st], name)
				}
			}
		}
	}
	for _, st := range slices.Sorted(maps.Keys(byStatus)) {
		if st < "400" {
			continue
		}
		var descs []string
		for _, name := range slices.Sorted(slices.Values(byStatus[st])) {
			descs = append(descs, cell(str(responses[name], "description")))
		}
		r.p("| %s | %s |\n", st, strings.Join(descs, " — "))
	}

	for _, tag := range r.doc["tags"].([]any) {
		name := str(tag, "name")
		r.p("\n## %s\n\n%s\n", strings.ToUpper(name[:1])+name[1:], str(tag, "description"))
		for _, o := range r.operations() {
			if tags, _ := o.op["tags"].([]any); len(tags) == 0 || tags[0] != name {
				continue
			}
			r.operation(o)
		}
	}

	r.p("\n## The stream's control events\n\n")
	r.p("Sent by the server on `GET /api/sse` (reserved prefix `sse:`; publishers cannot send them).\n")
	r.p("The catalog's events are in the AsyncAPI document too.\n\n| event | payload | meaning |\n|---|---|---|\n")
	msgs := m(aa, "components", "messages")
	for _, key := range slices.Sorted(maps.Keys(msgs)) {
		msg := m(msgs[key])
		if !strings.HasPrefix(key, "control.") {
			continue
		}
		r.p("| `%s` | `%s` | %s |\n", str(msg, "name"), payloadShape(m(msg, "payload")), cell(str(msg, "summary")))
	}
}

func anchor(o operation) string {
	return strings.Trim(strings.Map(func(c rune) rune {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
			return c
		case c >= 'A' && c <= 'Z':
			return c + 'a' - 'A'
		}
		return '-'
	}, o.method+"-"+o.path), "-")
}

// payloadShape is {"a","b"?} for an object schema.
func payloadShape(s map[string]any) string {
	props := m(s, "properties")
	req, _ := s["required"].([]string)
	if r, ok := s["required"].([]any); ok {
		for _, x := range r {
			req = append(req, str(x))
		}
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(props)) {
		q := `"` + k + `"`
		if !slices.Contains(req, k) {
			q += "?"
		}
		parts = append(parts, q)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func (r *mdWriter) operation(o operation) {
	meth := strings.ToUpper(o.method)
	r.p("\n<a id=\"%s\"></a>\n### `%s %s` — %s\n\n", anchor(o), meth, o.path, str(o.op, "summary"))
	if d := strings.TrimSpace(str(o.op, "description")); d != "" {
		r.p("%s\n\n", d)
	}
	r.p("Auth: %s.\n\n", r.security(o.op))
	if params, _ := o.op["parameters"].([]any); len(params) > 0 {
		r.p("| parameter | in | meaning |\n|---|---|---|\n")
		for _, pv := range params {
			p := r.resolve(m(pv))
			r.p("| `%s` | %s | %s |\n", str(p, "name"), str(p, "in"), cell(str(p, "description")))
		}
		r.p("\n")
	}
	r.p("| status | meaning |\n|---|---|\n")
	for _, st := range statuses(o.op) {
		resp := r.resolve(m(o.op, "responses", st))
		r.p("| %s | %s |\n", st, cell(str(resp, "description")))
	}
	examples := m(o.op, "requestBody", "content", "application/json", "examples")
	if len(examples) == 0 && o.method != "get" {
		return
	}
	r.p("\n```sh\n")
	url := "http://127.0.0.1:8080" + o.path
	auth := ""
	if r.security(o.op) != "none" {
		auth = ` -H "Authorization: Bearer $TOKEN"`
	}
	if len(examples) == 0 {
		flag := ""
		if o.path == "/api/sse" {
			flag = " -N"
			url += "?channels=conversation:1"
		}
		r.p("curl%s%s '%s'\n", flag, auth, url)
	}
	for i, name := range slices.Sorted(maps.Keys(examples)) {
		ex := m(examples[name])
		body := orderedJSON(ex["value"])
		if i > 0 {
			r.p("\n")
		}
		r.p("# %s\ncurl -X %s%s -H 'Content-Type: application/json' \\\n  -d '%s' \\\n  %s\n",
			str(ex, "summary"), meth, auth, strings.ReplaceAll(body, "'", `'\''`), url)
	}
	r.p("```\n")
}

// keyOrder is the order of a publish request's members in the curl
// examples, as people write them; other keys follow in sorted order.
var keyOrder = []string{"event", "tenantId", "target", "data", "excludeConnectionId", "idempotencyKey", "connectionId", "subscribe", "unsubscribe"}

// orderedJSON is compact JSON with object keys in keyOrder.
func orderedJSON(v any) string {
	switch t := v.(type) {
	case map[string]any:
		keys := slices.SortedFunc(maps.Keys(t), func(a, b string) int {
			ia, ib := slices.Index(keyOrder, a), slices.Index(keyOrder, b)
			switch {
			case ia >= 0 && ib >= 0:
				return ia - ib
			case ia >= 0:
				return -1
			case ib >= 0:
				return 1
			}
			return strings.Compare(a, b)
		})
		parts := make([]string, len(keys))
		for i, k := range keys {
			kb, _ := json.Marshal(k)
			parts[i] = string(kb) + ":" + orderedJSON(t[k])
		}
		return "{" + strings.Join(parts, ",") + "}"
	case []any:
		parts := make([]string, len(t))
		for i, x := range t {
			parts[i] = orderedJSON(x)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	b, _ := json.Marshal(v)
	return string(b)
}
