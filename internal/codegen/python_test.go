package codegen_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssehub/ssehub/internal/codegen"
	"github.com/ssehub/ssehub/ssehttp/apidoc"
)

const examplePython = "../../examples/catalog/events_gen.py"

// TestPythonGolden pins the Python of the example catalog (the module the
// Python publisher's tests import). Regenerate with go test
// ./internal/codegen -update.
func TestPythonGolden(t *testing.T) {
	got, err := codegen.Python(exampleSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(examplePython, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(examplePython)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go test ./internal/codegen -update", examplePython)
	}
	if code, out, errOut := runMain("python", "--catalog", exampleCatalog); code != 0 || out != string(want) {
		t.Errorf("ssehub gen python: got %d %q", code, errOut)
	}
}

// python3 returns the interpreter, or skips loudly (fails when CI is set).
func python3(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but python3 is not installed")
		}
		t.Skip("SKIPPING the Python import check: python3 is not installed")
	}
	return p
}

// TestPythonImports runs the generated modules in Python: every
// annotation must resolve (typing.get_type_hints), required and optional
// keys must match the schema, and keys that are not identifiers, Python
// keywords and recursive definitions must work.
func TestPythonImports(t *testing.T) {
	py := python3(t)
	edge := schemaDoc(t, `Node={"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}, "class": {"type": "string"}}, "required": ["class"]}`,
		map[string]string{
			"odd:keys": `{"type": "object", "properties": {"content-type": {"type": "string"}, "from": {"$ref": "#/$defs/Node"}, "n": {"type": ["integer", "null"]}}, "required": ["from"]}`,
			"scalar":   `{"enum": ["a", "b", null]}`,
			"nested": `{"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "object", "properties": {"c": {"const": 1}}, "required": ["c"]}}}},
			            "required": ["a"]}`,
		})
	dir := t.TempDir()
	for name, schema := range map[string][]byte{"example_events": exampleSchema(t), "edge_events": edge} {
		src, err := codegen.Python(schema)
		if err != nil {
			t.Fatal(err)
		}
		_ = os.WriteFile(filepath.Join(dir, name+".py"), src, 0o644)
		_ = os.WriteFile(filepath.Join(dir, name+".schema.json"), schema, 0o644)
	}
	check := `
import json, sys, typing
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import example_events, edge_events
for mod in (example_events, edge_events):
    schema = json.load(open(sys.argv[1] + "/" + mod.__name__ + ".schema.json"))
    defs = {d["x-ssehub"]["event"]: d for d in schema["$defs"].values() if "event" in d.get("x-ssehub", {})}
    assert set(mod.EVENTS) == set(defs), (mod.__name__, set(mod.EVENTS))
    for name, typ in mod.EVENTS.items():
        if not typing.is_typeddict(typ):
            continue
        hints = typing.get_type_hints(typ, include_extras=True)
        assert set(hints) == set(defs[name]["properties"]), (name, hints)
        assert typ.__required_keys__ == frozenset(defs[name].get("required", [])), (name, typ.__required_keys__)
    for n in mod.__all__:
        getattr(mod, n)
        if typing.is_typeddict(getattr(mod, n)):
            typing.get_type_hints(getattr(mod, n))
assert typing.get_args(edge_events.Scalar) == (typing.Literal["a", "b"], type(None)), typing.get_args(edge_events.Scalar)
assert typing.get_type_hints(edge_events.NestedAB)["c"] == typing.Literal[1]
print("ok")
`
	cmd := exec.Command(py, "-c", check, dir, filepath.Join("..", "..", "clients", "python", "src"))
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("python: %v\n%s", err, out)
	}
}

// TestMain_apiDocuments: gen openapi and gen asyncapi write apidoc's
// documents, with the catalog folded in when given one, and need none.
func TestMain_apiDocuments(t *testing.T) {
	for lang, build := range map[string]func([]byte) ([]byte, error){"openapi": apidoc.OpenAPI, "asyncapi": apidoc.AsyncAPI} {
		bare, _ := build(nil)
		withCatalog, _ := build(exampleSchema(t))
		if code, out, errOut := runMain(lang); code != 0 || out != string(bare) {
			t.Errorf("gen %s: got %d %q", lang, code, errOut)
		}
		if code, out, errOut := runMain(lang, "--catalog", exampleCatalog); code != 0 || out != string(withCatalog) || out == string(bare) {
			t.Errorf("gen %s --catalog: got %d %q", lang, code, errOut)
		}
	}
	if code, _, _ := runMain("python"); code != 2 {
		t.Errorf("gen python without a catalog: got %d, want 2", code)
	}
}
