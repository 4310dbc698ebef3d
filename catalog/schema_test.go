package catalog_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ssehub/ssehub/catalog"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const schemaGolden = "../examples/catalog/catalog.schema.json"

// TestJSONSchemaGolden pins the document GET /api/events/schema serves for
// the example catalog. Regenerate with go test ./catalog -update.
func TestJSONSchemaGolden(t *testing.T) {
	got, err := example(t).JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(schemaGolden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(schemaGolden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go test ./catalog -update", schemaGolden)
	}
	again, _ := example(t).JSONSchema()
	if !bytes.Equal(got, again) {
		t.Error("JSONSchema is not deterministic")
	}
}

func TestJSONSchemaShape(t *testing.T) {
	doc, err := example(t).JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Schema string                    `json:"$schema"`
		Ext    catalog.RootExtension     `json:"x-ssehub"`
		Defs   map[string]map[string]any `json:"$defs"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	if d.Schema != "https://json-schema.org/draft/2020-12/schema" || d.Ext.Version != 1 {
		t.Errorf("got $schema %q, x-ssehub %+v", d.Schema, d.Ext)
	}
	ext, _ := json.Marshal(d.Defs["chat:typing"]["x-ssehub"])
	if want := `{"event":"chat:typing","rateLimit":{"interval":"1s","intervalMs":1000,"mode":"coalesce"},"targets":["channel","user","users"]}`; string(ext) != want {
		t.Errorf("chat:typing x-ssehub: got %s, want %s", ext, want)
	}
	if d.Defs["chat:typing"]["description"] != "A user started or stopped typing. Coalesced to one per second." {
		t.Errorf("the event description is not the schema's: %v", d.Defs["chat:typing"]["description"])
	}
	if _, ok := d.Defs["User"]["x-ssehub"]; ok {
		t.Error("a shared definition has x-ssehub")
	}
}

// TestJSONSchemaCompiles compiles the served document with a validator:
// it is a JSON Schema, and its event entries validate payloads by
// themselves (other tools can use it).
func TestJSONSchemaCompiles(t *testing.T) {
	doc, err := example(t).JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	jc := jsonschema.NewCompiler()
	jc.AssertFormat()
	if err := jc.AddResource("urn:ssehub:catalog", v); err != nil {
		t.Fatal(err)
	}
	sch, err := jc.Compile("urn:ssehub:catalog#/$defs/chat:message")
	if err != nil {
		t.Fatal(err)
	}
	good, _ := jsonschema.UnmarshalJSON(strings.NewReader(goodMessage))
	if err := sch.Validate(good); err != nil {
		t.Errorf("good message: %v", err)
	}
	bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"conversationId":1}`))
	if err := sch.Validate(bad); err == nil {
		t.Error("bad message: got no error")
	}
}

func TestJSONSchemaEmpty(t *testing.T) {
	var c catalog.Catalog
	doc, err := c.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(doc) || !strings.Contains(string(doc), `"$defs": {}`) {
		t.Errorf("got %s", doc)
	}
}

func TestServeHTTP(t *testing.T) {
	c := example(t)
	srv := httptest.NewServer(c)
	defer srv.Close()

	res, err := http.Get(srv.URL + "/api/events/schema")
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(res.Body)
	res.Body.Close()
	want, _ := c.JSONSchema()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/schema+json" || !bytes.Equal(body.Bytes(), want) {
		t.Errorf("GET: got %d %q, body equal %v", res.StatusCode, res.Header.Get("Content-Type"), bytes.Equal(body.Bytes(), want))
	}
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}

	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("If-None-Match", etag)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: got %d, want 304", res.StatusCode)
	}

	res, err = http.Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: got %d Allow %q, want 405 GET, HEAD", res.StatusCode, res.Header.Get("Allow"))
	}
}
