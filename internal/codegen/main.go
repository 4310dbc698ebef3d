package codegen

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ssehub/ssehub/catalog"
	"github.com/ssehub/ssehub/ssehttp/apidoc"
)

// SchemaPath is where the server serves the catalog; --url without a path
// gets it appended.
const SchemaPath = "/api/events/schema"

// generators are the languages of `ssehub gen`: catalog schema → file.
var generators = map[string]func([]byte) ([]byte, error){
	"ts":       TypeScript,
	"python":   Python,
	"openapi":  apidoc.OpenAPI,
	"asyncapi": apidoc.AsyncAPI,
}

// catalogOptional are the generators that describe the server without a
// catalog too.
var catalogOptional = map[string]bool{"openapi": true, "asyncapi": true}

// Main runs `ssehub gen <args>` and returns the exit code: 0 on success,
// 1 when generation fails or --check finds the file stale, 2 on bad usage.
//
//	ssehub gen ts|python|openapi|asyncapi (--catalog FILE | --url URL) [--token T] [-o FILE] [--check]
//
// ts writes TypeScript types ([TypeScript]), python a module of TypedDicts
// and a typed publisher ([Python]), openapi the OpenAPI 3.1 document of
// the HTTP API and asyncapi the AsyncAPI 3 document of the event stream
// (package apidoc; these two need no catalog, and fold its schemas in
// when given one).
//
// --catalog reads a catalog file (YAML or JSON), or a JSON Schema document
// as served by GET /api/events/schema when it ends in .schema.json; --url
// fetches the schema from a running server (SSEHUB_TOKEN or --token is
// sent as a bearer token if set). Without -o the TypeScript goes to stdout.
// --check compares with the -o file instead of writing it.
func Main(args []string, stdout, stderr io.Writer) int {
	usage := func() {
		fmt.Fprintln(stderr, "usage: ssehub gen ts|python|openapi|asyncapi (--catalog FILE | --url URL) [--token TOKEN] [-o FILE] [--check]\n       (openapi and asyncapi describe the server without a catalog when given neither)")
	}
	if len(args) == 0 || generators[args[0]] == nil {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			usage()
			return 0
		}
		usage()
		return 2
	}
	lang, generate := args[0], generators[args[0]]
	name := "ssehub gen " + lang
	fs := flag.NewFlagSet("gen "+lang, flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("catalog", "", "catalog file (YAML or JSON), or a served schema saved as *.schema.json")
	u := fs.String("url", "", "server base URL or schema URL, e.g. http://127.0.0.1:8080")
	token := fs.String("token", os.Getenv("SSEHUB_TOKEN"), "bearer token for --url (env SSEHUB_TOKEN)")
	out := fs.String("o", "", "output file (default stdout)")
	check := fs.Bool("check", false, "exit 1 if the -o file is not up to date instead of writing it")
	timeout := fs.Duration("timeout", 30*time.Second, "timeout of the --url request")
	fs.Usage = func() { usage(); fs.PrintDefaults() }
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	none := *file == "" && *u == ""
	if fs.NArg() > 0 || *file != "" && *u != "" || none && !catalogOptional[lang] || *check && *out == "" {
		fmt.Fprintln(stderr, name+": give exactly one of --catalog and --url (and -o with --check)")
		usage()
		return 2
	}
	var schema []byte
	var err error
	switch {
	case none:
	case *file != "":
		schema, err = schemaFromFile(*file)
	default:
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		schema, err = FetchSchema(ctx, http.DefaultClient, *u, *token)
		cancel()
	}
	if err != nil {
		fmt.Fprintln(stderr, name+":", err)
		return 1
	}
	ts, err := generate(schema)
	if err != nil {
		fmt.Fprintln(stderr, name+":", err)
		return 1
	}
	switch {
	case *check:
		old, err := os.ReadFile(*out)
		if err != nil || !bytes.Equal(old, ts) {
			fmt.Fprintf(stderr, "%s: %s is not up to date; run %s without --check\n", name, *out, name)
			return 1
		}
	case *out == "":
		_, _ = stdout.Write(ts)
	default:
		if err := writeFile(*out, ts); err != nil {
			fmt.Fprintln(stderr, name+":", err)
			return 1
		}
	}
	return 0
}

// schemaFromFile loads a catalog file and returns its JSON Schema; a
// *.schema.json file is taken as the schema itself.
func schemaFromFile(path string) ([]byte, error) {
	if strings.HasSuffix(path, ".schema.json") {
		return os.ReadFile(path)
	}
	c, err := catalog.LoadFile(path)
	if err != nil {
		return nil, err
	}
	return c.JSONSchema()
}

// FetchSchema gets the catalog schema from a running server. A URL
// without a path gets SchemaPath; token, when set, is sent as a bearer
// token.
func FetchSchema(ctx context.Context, client *http.Client, rawURL, token string) ([]byte, error) {
	pu, err := url.Parse(rawURL)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return nil, fmt.Errorf("--url %q: want http(s)://host[:port][/path]", rawURL)
	}
	if pu.Path == "" || pu.Path == "/" {
		pu.Path = SchemaPath
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pu.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/schema+json, application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, catalog.MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", pu.Redacted(), err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", pu.Redacted(), resp.Status, bytes.TrimSpace(body[:min(len(body), 300)]))
	}
	if len(body) > catalog.MaxFileSize {
		return nil, fmt.Errorf("GET %s: schema over %d bytes", pu.Redacted(), catalog.MaxFileSize)
	}
	return body, nil
}

// writeFile replaces path atomically.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".gen-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
