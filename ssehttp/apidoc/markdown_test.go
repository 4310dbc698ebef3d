package apidoc_test

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/ssehub/ssehub/ssehttp/apidoc"
)

var update = flag.Bool("update", false, "rewrite docs/api.md")

const apiPage = "../../docs/api.md"

// TestAPIPageIsGenerated: docs/api.md is what Markdown renders from the
// documents (without a catalog). Regenerate with go test ./ssehttp/apidoc
// -update.
func TestAPIPageIsGenerated(t *testing.T) {
	oa, err := apidoc.OpenAPI(nil)
	if err != nil {
		t.Fatal(err)
	}
	aa, err := apidoc.AsyncAPI(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := apidoc.Markdown(oa, aa)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(apiPage, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, _ := os.ReadFile(apiPage)
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go test ./ssehttp/apidoc -update", apiPage)
	}
	// Every path and status of the document is on the page.
	for _, s := range []string{"`POST /api/events`", "`GET /api/sse`", "| 415 |", "| 422 |", "sse:disabled", "`GET /healthz`"} {
		if !bytes.Contains(got, []byte(s)) {
			t.Errorf("the page lacks %s", s)
		}
	}
}
