package apidoc_test

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/ssehttp/apidoc"
)

// asyncDoc is the AsyncAPI document with its payload schemas compiled.
type asyncDoc struct {
	tree   map[string]any
	byName map[string]string // message name (the SSE event) → component key
	sch    *jsonschema.Compiler
}

func loadAsyncAPI(t *testing.T, raw []byte) *asyncDoc {
	t.Helper()
	d := &asyncDoc{byName: map[string]string{}}
	if err := json.Unmarshal(raw, &d.tree); err != nil {
		t.Fatal(err)
	}
	for key, m := range d.tree["components"].(map[string]any)["messages"].(map[string]any) {
		d.byName[m.(map[string]any)["name"].(string)] = key
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	d.sch = jsonschema.NewCompiler()
	d.sch.DefaultDraft(jsonschema.Draft2020)
	if err := d.sch.AddResource("urn:ssehub:asyncapi", inst); err != nil {
		t.Fatal(err)
	}
	return d
}

// check validates an event received on a stream against its message.
func (d *asyncDoc) check(t *testing.T, name, data string) {
	t.Helper()
	key, ok := d.byName[name]
	if !ok {
		t.Errorf("received %s, which the AsyncAPI document does not describe", name)
		return
	}
	s, err := d.sch.Compile("urn:ssehub:asyncapi#" + pointer("components", "messages", key, "payload"))
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(data))
	if err != nil {
		t.Errorf("%s: data is not JSON: %v", name, err)
		return
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("%s %s does not match its AsyncAPI payload: %v", name, data, err)
	}
}

// TestAsyncAPIMessagesAreTheCatalogsAndTheHubs: the messages are the
// catalog's events and the control events; every "sse:…" name the hub
// writes is one of them, and every operation message is on the channel.
func TestAsyncAPIMessagesAreTheCatalogsAndTheHubs(t *testing.T) {
	raw, err := apidoc.AsyncAPI(exampleCatalogSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	d := loadAsyncAPI(t, raw)
	want := append([]string{"chat:message", "chat:typing", "data:update", "invoice:created", "notification:new", "presence:update", "system:announcement"},
		apidoc.ControlEvents()...)
	slices.Sort(want)
	if got := slices.Sorted(maps.Keys(d.byName)); !slices.Equal(got, want) {
		t.Errorf("messages %q\nwant     %q", got, want)
	}
	// The hub's control event names: "sse:…" literals, and "sse:" + what
	// controlName returns.
	names, _ := filepath.Glob("../../hub/*.go")
	fset := token.NewFileSet()
	var written []string
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BasicLit:
				if s, _ := strconv.Unquote(n.Value); n.Kind == token.STRING && strings.HasPrefix(s, "sse:") && len(s) > 4 {
					written = append(written, s)
				}
			case *ast.FuncDecl:
				if n.Name.Name == "controlName" {
					ast.Inspect(n.Body, func(m ast.Node) bool {
						if r, ok := m.(*ast.ReturnStmt); ok {
							if lit, ok := r.Results[0].(*ast.BasicLit); ok {
								s, _ := strconv.Unquote(lit.Value)
								written = append(written, "sse:"+s)
							}
						}
						return true
					})
				}
			}
			return true
		})
	}
	if len(written) < 3 {
		t.Fatalf("found only %q in hub/: has the code moved?", written)
	}
	for _, w := range written {
		if _, ok := d.byName[w]; !ok {
			t.Errorf("the hub writes %s, which the AsyncAPI document does not describe", w)
		}
	}
	ch := d.tree["channels"].(map[string]any)["stream"].(map[string]any)["messages"].(map[string]any)
	for _, m := range d.tree["operations"].(map[string]any)["receiveEvents"].(map[string]any)["messages"].([]any) {
		ref := m.(map[string]any)["$ref"].(string)
		if _, ok := ch[strings.TrimPrefix(ref, "#/channels/stream/messages/")]; !ok {
			t.Errorf("operation message %s is not on the channel", ref)
		}
	}
}

// TestStreamMatchesAsyncAPI provokes every control event and some catalog
// events on a real server and checks each against the document served at
// GET /api/asyncapi.json.
func TestStreamMatchesAsyncAPI(t *testing.T) {
	srv := startServer(t)
	var d *asyncDoc
	{
		var raw json.RawMessage
		getJSON(t, srv.url+"/api/asyncapi.json", &raw)
		d = loadAsyncAPI(t, raw)
	}
	toks := tokens(t)
	seen := map[string]bool{}
	expect := func(s *stream, name string) {
		t.Helper()
		got, data := s.next(t)
		if got != name {
			t.Fatalf("got %s %s, want %s", got, data, name)
		}
		d.check(t, got, data)
		seen[got] = true
	}

	// sse:ready, and catalog events as published.
	s := openStream(t, srv.url, toks["user"], "conversation:1")
	defer s.close()
	b, _ := json.Marshal(s.ready)
	d.check(t, "sse:ready", string(b))
	seen["sse:ready"] = true
	for _, body := range []string{
		`{"event":"notification:new","tenantId":"acme","target":{"userId":"u1"},"data":{"id":"n1","title":"Hello","from":null}}`,
		`{"event":"chat:message","tenantId":"acme","target":{"channel":"conversation:1"},"data":{"conversationId":"1","message":{"id":"m1","text":"<b>hi</b>","sender":{"id":"u2","name":"Bob"},"sentAt":"2026-12-06T10:00:00Z"}}}`,
		`{"event":"invoice:created","tenantId":"acme","target":{"tenantId":"acme"},"data":{"invoiceId":"i1","number":"INV-1","status":"created","customer":{"id":"c","name":"C"},"total":{"amount":100,"currency":"EUR"},"lines":[{"description":"d","quantity":1,"unitPrice":{"amount":100,"currency":"EUR"}}]}}`,
	} {
		resp := post(t, srv.url+"/api/events", toks["publisher"], body)
		resp.Body.Close()
		if resp.StatusCode != 202 {
			t.Fatalf("publish: %s", resp.Status)
		}
		var ev struct{ Event string }
		_ = json.Unmarshal([]byte(body), &ev)
		expect(s, ev.Event)
	}

	// sse:reset: a Last-Event-ID the history cannot serve.
	req, _ := http.NewRequest(http.MethodGet, srv.url+"/api/sse", nil)
	req.Header.Set("Authorization", "Bearer "+toks["user"])
	req.Header.Set("Last-Event-ID", "zzzzzzzz-1")
	resp, err := streamClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rs := &stream{resp: resp, r: newReader(resp)}
	expect(rs, "sse:ready")
	expect(rs, "sse:reset")
	rs.close()

	// sse:evicted: a fourth stream of the same user (the default policy
	// evicts the oldest). Another user, so s stays.
	evictee := mint(t, auth.Claims{Subject: "u-evict", TenantID: "acme"})
	first := openStream(t, srv.url, evictee, "")
	defer first.close()
	for range 3 {
		defer openStream(t, srv.url, evictee, "").close()
	}
	expect(first, "sse:evicted")

	// sse:token-expired: a token that expires in a second.
	short, err := auth.Mint([]byte(secret), auth.Claims{Subject: "u-short", TenantID: "acme"}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	exp := openStream(t, srv.url, short, "")
	defer exp.close()
	expect(exp, "sse:token-expired")

	// sse:disabled, then sse:shutdown on a stream opened after enable.
	post(t, srv.url+"/api/admin/sse/disable", toks["admin"], "").Body.Close()
	expect(s, "sse:disabled")
	post(t, srv.url+"/api/admin/sse/enable", toks["admin"], "").Body.Close()
	last := openStream(t, srv.url, toks["user"], "")
	defer last.close()
	srv.stop()
	expect(last, "sse:shutdown")

	for _, c := range apidoc.ControlEvents() {
		if !seen[c] {
			t.Errorf("%s was not provoked", c)
		}
	}
}
