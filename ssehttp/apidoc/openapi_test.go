package apidoc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ssehub/ssehub/catalog"
	"github.com/ssehub/ssehub/ssehttp/apidoc"
)

// methods are the HTTP methods an operation may have in the document.
var methods = []string{"get", "head", "post", "put", "patch", "delete"}

func exampleCatalogSchema(t *testing.T) []byte {
	t.Helper()
	c, err := catalog.LoadFile("../../examples/catalog/catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// openapiDoc is the document as served with the example catalog.
type openapiDoc struct {
	raw  []byte
	tree map[string]any
	sch  *jsonschema.Compiler
}

func loadOpenAPI(t *testing.T, raw []byte) *openapiDoc {
	t.Helper()
	d := &openapiDoc{raw: raw}
	if err := json.Unmarshal(raw, &d.tree); err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	d.sch = jsonschema.NewCompiler()
	d.sch.DefaultDraft(jsonschema.Draft2020)
	if err := d.sch.AddResource("urn:ssehub:openapi", inst); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *openapiDoc) paths() map[string]map[string]any {
	out := map[string]map[string]any{}
	for p, item := range d.tree["paths"].(map[string]any) {
		out[p] = item.(map[string]any)
	}
	return out
}

// resolve follows a local $ref of the document.
func (d *openapiDoc) resolve(v map[string]any) (map[string]any, string) {
	ref, ok := v["$ref"].(string)
	if !ok {
		return v, ""
	}
	var cur any = d.tree
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		part = strings.NewReplacer("~1", "/", "~0", "~").Replace(part)
		cur = cur.(map[string]any)[part]
	}
	return cur.(map[string]any), ref
}

// schema compiles the schema at a JSON pointer of the document.
func (d *openapiDoc) schema(t *testing.T, pointer string) *jsonschema.Schema {
	t.Helper()
	s, err := d.sch.Compile("urn:ssehub:openapi#" + pointer)
	if err != nil {
		t.Fatalf("compile %s: %v", pointer, err)
	}
	return s
}

func pointer(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString("/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(p))
	}
	return b.String()
}

// servedRoutes reads the routes the binary serves from the source: the
// paths ssehttp.Mount and apidoc.Mount register (constants of package
// ssehttp) and the patterns internal/server registers itself. Dev mode's
// demo app is not part of the API.
func servedRoutes(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	consts := map[string]string{}
	var files []*ast.File
	for _, dir := range []string{"..", ".", "../../internal/server"} {
		names, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, "demo.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
			if dir != ".." {
				continue
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if vs, ok := n.(*ast.ValueSpec); ok && len(vs.Values) == len(vs.Names) {
					for i, v := range vs.Values {
						if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[vs.Names[i].Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
				return true
			})
		}
	}
	var routes []string
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "mux" {
				return true
			}
			var path string
			switch a := call.Args[0].(type) {
			case *ast.BasicLit:
				path, _ = strconv.Unquote(a.Value)
			case *ast.Ident:
				path = consts[a.Name]
			case *ast.SelectorExpr:
				path = consts[a.Sel.Name]
			}
			if path == "" {
				t.Fatalf("%s: cannot read the route of %s", fset.Position(call.Pos()), sel.Sel.Name)
			}
			if _, p, ok := strings.Cut(path, " "); ok {
				path = p // "GET /metrics"
			}
			routes = append(routes, path)
			return true
		})
	}
	slices.Sort(routes)
	return slices.Compact(routes)
}

// TestDocumentedPathsAreTheRoutes: the document has exactly the paths the
// server registers, and on a real server every documented method is
// routed and every other one is 405.
func TestDocumentedPathsAreTheRoutes(t *testing.T) {
	raw, err := apidoc.OpenAPI(nil)
	if err != nil {
		t.Fatal(err)
	}
	doc := loadOpenAPI(t, raw)
	documented := slices.Sorted(maps.Keys(doc.paths()))
	routes := servedRoutes(t)
	if !slices.Equal(documented, routes) {
		t.Errorf("documented paths %q\nserved routes    %q", documented, routes)
	}

	srv := startServer(t)
	for _, p := range documented {
		item := doc.paths()[p]
		for _, m := range methods {
			_, isDoc := item[m]
			if !isDoc && m == "head" {
				continue // net/http answers HEAD for GET routes
			}
			req, _ := http.NewRequest(strings.ToUpper(m), srv.url+p, nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			switch {
			case isDoc && (resp.StatusCode == 404 && p != "/metrics" || resp.StatusCode == 405):
				t.Errorf("%s %s is documented but answers %s", m, p, resp.Status)
			case !isDoc && resp.StatusCode != 405:
				t.Errorf("%s %s is not documented but answers %s (want 405)", m, p, resp.Status)
			}
		}
	}
}

// TestErrorCodesAreTheServers: the document's error codes are the Code…
// constants of ssehttp/errors.go.
func TestErrorCodesAreTheServers(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok && strings.HasPrefix(vs.Names[0].Name, "Code") {
			s, _ := strconv.Unquote(vs.Values[0].(*ast.BasicLit).Value)
			codes = append(codes, s)
		}
		return true
	})
	raw, err := apidoc.OpenAPI(nil)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas struct {
				Error struct {
					Properties struct {
						Error struct {
							Properties struct {
								Code struct {
									Enum []string `json:"enum"`
								} `json:"code"`
							} `json:"properties"`
						} `json:"error"`
					} `json:"properties"`
				} `json:"Error"`
			} `json:"schemas"`
		} `json:"components"`
	}
	_ = json.Unmarshal(raw, &doc)
	got := doc.Components.Schemas.Error.Properties.Error.Properties.Code.Enum
	slices.Sort(codes)
	slices.Sort(got)
	if len(codes) == 0 || !slices.Equal(got, codes) {
		t.Errorf("documented codes %q\nssehttp codes    %q", got, codes)
	}
}

// TestServedDocumentsAreTheGenerated: GET /api/openapi.json and
// /api/asyncapi.json answer what OpenAPI and AsyncAPI build from the
// server's catalog, with the catalog folded in.
func TestServedDocumentsAreTheGenerated(t *testing.T) {
	srv := startServer(t)
	schema := exampleCatalogSchema(t)
	for path, build := range map[string]func([]byte) ([]byte, error){"/api/openapi.json": apidoc.OpenAPI, "/api/asyncapi.json": apidoc.AsyncAPI} {
		want, err := build(schema)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Get(srv.url + path)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || !bytes.Equal(got, want) {
			t.Errorf("GET %s: %s %q, equal %v", path, resp.Status, resp.Header.Get("Content-Type"), bytes.Equal(got, want))
		}
		if !bytes.Contains(got, []byte(`"#/components/schemas/catalog.chat.message"`)) {
			t.Errorf("GET %s: the catalog is not folded in", path)
		}
	}
}

// example is one x-ssehub-examples entry.
type example struct {
	Summary     string            `json:"summary"`
	Auth        string            `json:"auth"`
	Method      string            `json:"method"`
	Query       string            `json:"query"`
	Body        string            `json:"body"`
	Value       any               `json:"value"`
	RawBody     string            `json:"rawBody"`
	ContentType string            `json:"contentType"`
	Headers     map[string]string `json:"headers"`
	Status      int               `json:"status"`
	Setup       string            `json:"setup"`
	Teardown    string            `json:"teardown"`
}

// untested are the documented answers no example provokes, and why.
var untested = map[string]string{
	"500":                             "an internal error has no request that causes it",
	"get /readyz 503":                 "needs the broker down; hub and ssehttp tests cover it",
	"get /api/events/schema 404":      "only without --catalog; the examples run with one",
	"get /metrics 404":                "only with --metrics=false",
	"post /api/sse/subscriptions 503": "needs a shutdown or a broker down mid-request",
	"post /api/events 503":            "needs a shutdown or a broker down mid-request",
	"408":                             "needs a body slower than the 10 s body timeout; internal/server TestSlowAndEndlessBodies",
	"505":                             "net/http's client sends no HTTP/1.0; internal/server TestSmallEdges (HTTP/1.0 stream)",
}

// TestExamplesAgainstARealServer sends every example request of the
// document to a real server and checks the answer against the document:
// the status the example names, documented for the operation, with the
// documented media type and a body valid against the documented schema.
// Every documented status but those in untested is produced by one
// example, and every named request-body example is valid against the
// request schema.
func TestExamplesAgainstARealServer(t *testing.T) {
	srv := startServer(t, "--user-limit-policy", "reject", "--publisher-rate", "20")
	raw, err := apidoc.OpenAPI(exampleCatalogSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	doc := loadOpenAPI(t, raw)
	toks := tokens(t)
	covered := map[string]bool{}
	var documented []string
	ran := 0
	for _, p := range slices.Sorted(maps.Keys(doc.paths())) {
		item := doc.paths()[p]
		for _, m := range methods {
			opv, ok := item[m]
			if !ok {
				continue
			}
			op := opv.(map[string]any)
			responses := op["responses"].(map[string]any)
			for status := range responses {
				documented = append(documented, m+" "+p+" "+status)
			}
			var content map[string]any
			if rb, ok := op["requestBody"].(map[string]any); ok {
				content, _ = rb["content"].(map[string]any)["application/json"].(map[string]any)
				bodyPtr := pointer("paths", p, m, "requestBody", "content", "application/json", "schema")
				examples, _ := content["examples"].(map[string]any)
				for name, ex := range examples {
					v := ex.(map[string]any)["value"]
					if err := doc.schema(t, bodyPtr).Validate(v); err != nil {
						t.Errorf("%s %s: request example %q does not match the request schema: %v", m, p, name, err)
					}
				}
			}
			exs, _ := op["x-ssehub-examples"].([]any)
			if len(exs) == 0 {
				t.Errorf("%s %s has no x-ssehub-examples", m, p)
			}
			for _, exv := range exs {
				b, _ := json.Marshal(exv)
				var ex example
				if err := json.Unmarshal(b, &ex); err != nil {
					t.Fatal(err)
				}
				ran++
				name := fmt.Sprintf("%s %s (%s)", m, p, ex.Summary)
				status := runExample(t, srv, doc, toks, p, m, content, ex, name)
				covered[m+" "+p+" "+strconv.Itoa(status)] = true
			}
		}
	}
	for _, d := range documented {
		_, status, _ := strings.Cut(strings.SplitN(d, " ", 2)[1], " ")
		if !covered[d] && untested[d] == "" && untested[status] == "" {
			t.Errorf("%s is documented but no example produces it", d)
		}
	}
	t.Logf("%d examples, %d documented answers", ran, len(documented))
}

func runExample(t *testing.T, srv *testServer, doc *openapiDoc, toks map[string]string, path, method string,
	content map[string]any, ex example, name string) int {
	t.Helper()
	token := toks[ex.Auth]
	var cleanup []func()
	defer func() {
		for _, f := range slices.Backward(cleanup) {
			f()
		}
	}()
	var connID string
	switch ex.Setup {
	case "":
	case "open-stream":
		s := openStream(t, srv.url, toks["user"], "conversation:1")
		cleanup = append(cleanup, s.close)
		connID, _ = s.ready["connectionId"].(string)
	case "fill-user-limit":
		token = toks["limited"]
		for range 3 {
			s := openStream(t, srv.url, token, "")
			cleanup = append(cleanup, s.close)
		}
	case "disable":
		post(t, srv.url+"/api/admin/sse/disable", toks["admin"], "").Body.Close()
		cleanup = append(cleanup, func() { post(t, srv.url+"/api/admin/sse/enable", toks["admin"], "").Body.Close() })
	case "exhaust-publisher-rate":
		token = toks["flood"]
		for i := 0; ; i++ {
			resp := post(t, srv.url+"/api/events", token, `{"event":"data:update","tenantId":"acme","target":{"userId":"nobody"},"data":{"entity":"x","action":"update","id":1}}`)
			resp.Body.Close()
			if resp.StatusCode == 429 || i > 200 {
				break
			}
		}
	default:
		t.Fatalf("%s: unknown setup %q", name, ex.Setup)
	}
	switch ex.Teardown {
	case "":
	case "enable":
		cleanup = append(cleanup, func() { post(t, srv.url+"/api/admin/sse/enable", toks["admin"], "").Body.Close() })
	default:
		t.Fatalf("%s: unknown teardown %q", name, ex.Teardown)
	}

	var body io.Reader
	switch {
	case ex.RawBody == "@2MiB":
		body = strings.NewReader(`{"event":"x","data":"` + strings.Repeat("a", 2<<20) + `"}`)
	case ex.RawBody != "":
		body = strings.NewReader(ex.RawBody)
	case ex.Value != nil:
		b, _ := json.Marshal(ex.Value)
		body = bytes.NewReader(b)
	case ex.Body != "":
		examples, _ := content["examples"].(map[string]any)
		e, ok := examples[ex.Body].(map[string]any)
		if !ok {
			t.Fatalf("%s: no request example %q", name, ex.Body)
		}
		b, _ := json.Marshal(e["value"])
		body = bytes.NewReader(bytes.ReplaceAll(b, []byte("{connectionId}"), []byte(connID)))
	}
	m := strings.ToUpper(method)
	if ex.Method != "" {
		m = ex.Method
	}
	url := srv.url + path
	q := ex.Query
	if ex.Auth == "user-query" {
		q = strings.TrimPrefix(q+"&access_token="+toks["user"], "&")
	}
	if q != "" {
		url += "?" + q
	}
	// A stream answered where the example expects a refusal must not hang
	// the test: the whole exchange, body included, has 15 s.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, m, url, body)
	if body != nil {
		ct := "application/json"
		if ex.ContentType != "" {
			ct = ex.ContentType
		}
		req.Header.Set("Content-Type", ct)
	}
	switch {
	case ex.Auth == "user-cookie":
		req.AddCookie(&http.Cookie{Name: "ssehub_token", Value: toks["user"]})
	case token != "" && ex.Auth != "user-query":
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range ex.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != ex.Status {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
		t.Errorf("%s: got %s %s, the document says %d", name, resp.Status, b, ex.Status)
		return resp.StatusCode
	}
	// The answer must be documented: status, media type, body schema.
	opPtr := pointer("paths", path, strings.ToLower(m))
	if ex.Method != "" {
		return resp.StatusCode // a method the path does not document: checked by TestDocumentedPathsAreTheRoutes
	}
	respv, ok := doc.tree["paths"].(map[string]any)[path].(map[string]any)[strings.ToLower(m)].(map[string]any)["responses"].(map[string]any)[strconv.Itoa(resp.StatusCode)]
	if !ok {
		t.Errorf("%s: %d is not documented", name, resp.StatusCode)
		return resp.StatusCode
	}
	r, ref := doc.resolve(respv.(map[string]any))
	respPtr := opPtr + pointer("responses", strconv.Itoa(resp.StatusCode))
	if ref != "" {
		respPtr = strings.TrimPrefix(ref, "#")
	}
	// Documented headers: present when required, valid when present.
	for hname, hv := range m2(r["headers"]) {
		h, href := doc.resolve(hv.(map[string]any))
		hptr := respPtr + pointer("headers", hname)
		if href != "" {
			hptr = strings.TrimPrefix(href, "#")
		}
		got := resp.Header.Get(hname)
		if got == "" {
			if req, _ := h["required"].(bool); req {
				t.Errorf("%s: the documented header %s is missing", name, hname)
			}
			continue
		}
		var v any = got
		if typ, _ := m2(h["schema"])["type"].(string); typ == "integer" {
			n, err := strconv.Atoi(got)
			if err != nil {
				t.Errorf("%s: header %s: %q is not an integer", name, hname, got)
				continue
			}
			v = n
		}
		if err := doc.schema(t, hptr+"/schema").Validate(v); err != nil {
			t.Errorf("%s: header %s: %q does not match the document: %v", name, hname, got, err)
		}
	}
	contents, _ := r["content"].(map[string]any)
	if m == http.MethodHead || len(contents) == 0 {
		return resp.StatusCode
	}
	mediaType, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	if _, ok := contents[mediaType]; !ok {
		t.Errorf("%s: Content-Type %q is not documented (%v)", name, mediaType, slices.Collect(maps.Keys(contents)))
		return resp.StatusCode
	}
	if mediaType != "application/json" && mediaType != "application/schema+json" {
		return resp.StatusCode // text/event-stream, text/plain: the stream is checked by the AsyncAPI tests
	}
	inst, err := jsonschema.UnmarshalJSON(resp.Body)
	if err != nil {
		t.Errorf("%s: the body is not JSON: %v", name, err)
		return resp.StatusCode
	}
	if err := doc.schema(t, respPtr+pointer("content", mediaType, "schema")).Validate(inst); err != nil {
		t.Errorf("%s: the body does not match the documented schema: %v", name, err)
	}
	return resp.StatusCode
}

func m2(v any) map[string]any {
	out, _ := v.(map[string]any)
	return out
}

// handlerFuncs are the functions of package ssehttp that answer each
// operation (Type.Method for methods). Every status they write — a
// Status: literal of an *Error, an http.Status… constant, 405 through
// allowMethod — must be documented for the operation.
var handlerFuncs = map[string][]string{
	"get /api/sse":                   {"streamGate", "streamHandler.ServeHTTP", "parseChannels"},
	"head /api/sse":                  {"streamGate"},
	"post /api/sse/subscriptions":    {"NewSubscriptionsHandler", "decodeStrict"},
	"post /api/events":               {"publishHandler.ServeHTTP", "decodePublish", "publishHandler.message"},
	"get /api/sse/stats":             {"NewStatsHandler", "requireAdmin"},
	"post /api/admin/sse/disable":    {"NewAdminHandler", "requireAdmin"},
	"post /api/admin/sse/enable":     {"NewAdminHandler", "requireAdmin"},
	"get /api/admin/sse/connections": {"NewConnectionsHandler", "requireAdmin"},
	"get /healthz":                   {"NewHealthHandler"},
	"get /readyz":                    {"NewReadyHandler"},
}

var httpStatus = map[string]int{
	"StatusOK": 200, "StatusAccepted": 202, "StatusNoContent": 204, "StatusBadRequest": 400, "StatusUnauthorized": 401,
	"StatusForbidden": 403, "StatusNotFound": 404, "StatusMethodNotAllowed": 405, "StatusRequestEntityTooLarge": 413,
	"StatusUnsupportedMediaType": 415, "StatusUnprocessableEntity": 422, "StatusTooManyRequests": 429,
	"StatusInternalServerError": 500, "StatusServiceUnavailable": 503, "StatusHTTPVersionNotSupported": 505,
}

// TestHandlerStatusesAreDocumented reads the statuses each handler writes
// from its source and checks that the document lists them.
func TestHandlerStatusesAreDocumented(t *testing.T) {
	fset := token.NewFileSet()
	written := map[string][]int{} // func → statuses
	defined := map[string]bool{}
	names, _ := filepath.Glob("../*.go")
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			key := fd.Name.Name
			if fd.Recv != nil {
				rt := fd.Recv.List[0].Type
				if s, ok := rt.(*ast.StarExpr); ok {
					rt = s.X
				}
				key = rt.(*ast.Ident).Name + "." + key
			}
			defined[key] = true
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.KeyValueExpr:
					if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Status" {
						if lit, ok := n.Value.(*ast.BasicLit); ok {
							s, _ := strconv.Atoi(lit.Value)
							written[key] = append(written[key], s)
						}
					}
				case *ast.SelectorExpr:
					if x, ok := n.X.(*ast.Ident); ok && x.Name == "http" && strings.HasPrefix(n.Sel.Name, "Status") {
						if s, ok := httpStatus[n.Sel.Name]; ok {
							written[key] = append(written[key], s)
						} else {
							t.Errorf("%s: %s: add it to httpStatus", fset.Position(n.Pos()), n.Sel.Name)
						}
					}
				case *ast.CallExpr:
					if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "allowMethod" {
						written[key] = append(written[key], 405)
					}
				}
				return true
			})
		}
	}
	raw, err := apidoc.OpenAPI(nil)
	if err != nil {
		t.Fatal(err)
	}
	doc := loadOpenAPI(t, raw)
	for op, funcs := range handlerFuncs {
		method, path, _ := strings.Cut(op, " ")
		responses := m2(m2(doc.paths()[path][method])["responses"])
		if responses == nil {
			t.Errorf("%s is not documented", op)
			continue
		}
		for _, fn := range funcs {
			if !defined[fn] {
				t.Errorf("%s: no function %s in ssehttp (renamed?)", op, fn)
			}
			for _, s := range written[fn] {
				if s == 405 && method == "head" {
					continue
				}
				if _, ok := responses[strconv.Itoa(s)]; !ok {
					t.Errorf("%s: %s writes %d, which the document does not list", op, fn, s)
				}
			}
		}
	}
}
