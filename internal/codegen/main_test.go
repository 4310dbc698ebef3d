package codegen_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssehub/ssehub/catalog"
	"github.com/ssehub/ssehub/internal/codegen"
)

func runMain(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := codegen.Main(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestMain_catalogToStdout(t *testing.T) {
	want, _ := os.ReadFile(exampleGolden)
	code, out, errOut := runMain("ts", "--catalog", exampleCatalog)
	if code != 0 || out != string(want) {
		t.Fatalf("got %d, stderr %q, stdout equal %v", code, errOut, out == string(want))
	}
	// The served schema saved to a file works too.
	schema := filepath.Join(t.TempDir(), "catalog.schema.json")
	_ = os.WriteFile(schema, exampleSchema(t), 0o644)
	if code, out, _ := runMain("ts", "--catalog", schema); code != 0 || out != string(want) {
		t.Errorf("from *.schema.json: got %d", code)
	}
}

func TestMain_outputAndCheck(t *testing.T) {
	out := filepath.Join(t.TempDir(), "events.gen.ts")
	if code, _, errOut := runMain("ts", "--catalog", exampleCatalog, "--check", "-o", out); code != 1 || !strings.Contains(errOut, "not up to date") {
		t.Errorf("--check without the file: got %d %q, want 1", code, errOut)
	}
	if code, _, errOut := runMain("ts", "--catalog", exampleCatalog, "-o", out); code != 0 {
		t.Fatalf("-o: got %d %q", code, errOut)
	}
	if code, _, _ := runMain("ts", "--catalog", exampleCatalog, "-o", out, "--check"); code != 0 {
		t.Errorf("--check on a fresh file: got %d, want 0", code)
	}
	_ = os.WriteFile(out, []byte("stale"), 0o644)
	if code, _, _ := runMain("ts", "--catalog", exampleCatalog, "-o", out, "--check"); code != 1 {
		t.Errorf("--check on a stale file: got %d, want 1", code)
	}
}

func TestMain_url(t *testing.T) {
	c, err := catalog.LoadFile(exampleCatalog)
	if err != nil {
		t.Fatal(err)
	}
	var auth string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/events/schema", func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		c.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	want, _ := os.ReadFile(exampleGolden)
	code, out, errOut := runMain("ts", "--url", srv.URL, "--token", "tok")
	if code != 0 || out != string(want) || auth != "Bearer tok" {
		t.Errorf("--url: got %d %q, auth %q, stdout equal %v", code, errOut, auth, out == string(want))
	}
	if code, _, errOut := runMain("ts", "--url", srv.URL+"/nope"); code != 1 || !strings.Contains(errOut, "404") {
		t.Errorf("404: got %d %q", code, errOut)
	}
	if code, _, errOut := runMain("ts", "--url", "ftp://x"); code != 1 || !strings.Contains(errOut, "want http") {
		t.Errorf("bad scheme: got %d %q", code, errOut)
	}
}

func TestMain_usage(t *testing.T) {
	for _, args := range [][]string{
		{}, {"go"}, {"ts"}, {"ts", "--catalog", "a", "--url", "http://x"}, {"ts", "--check", "--catalog", "a"}, {"ts", "--nope"}, {"ts", "--catalog", "a", "extra"},
	} {
		if code, _, errOut := runMain(args...); code != 2 || !strings.Contains(errOut, "usage: ssehub gen ts") {
			t.Errorf("%q: got %d %q, want 2 and the usage", args, code, errOut)
		}
	}
	if code, _, _ := runMain("help"); code != 0 {
		t.Errorf("help: got %d", code)
	}
	if code, _, errOut := runMain("ts", "--catalog", "testdata/missing.yaml"); code != 1 || errOut == "" {
		t.Errorf("missing file: got %d %q", code, errOut)
	}
}
