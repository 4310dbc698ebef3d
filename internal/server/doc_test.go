package server_test

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/ssehub/ssehub/internal/server"
)

var update = flag.Bool("update", false, "rewrite docs/configuration.md's settings table")

const (
	beginMark = "<!-- settings:begin (generated: go test ./internal/server -run TestConfigurationDoc -update) -->"
	endMark   = "<!-- settings:end -->"
)

// TestConfigurationDoc keeps docs/configuration.md's table equal to the
// settings the binary accepts.
func TestConfigurationDoc(t *testing.T) {
	const path = "../../docs/configuration.md"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(beginMark + "\n\n| flag | environment | default | what |\n|---|---|---|---|\n")
	for _, s := range server.Settings() {
		def := s.Default
		if def == "" || def == "0s" {
			def = "—"
		}
		fmt.Fprintf(&b, "| `--%s` | `%s` | `%s` | %s |\n", s.Name, s.Env, strings.ReplaceAll(def, "|", `\|`), strings.ReplaceAll(s.Usage, "|", `\|`))
	}
	b.WriteString("\n" + endMark)
	text := string(doc)
	i, j := strings.Index(text, beginMark), strings.Index(text, endMark)
	if i < 0 || j < i {
		t.Fatalf("%s: markers not found", path)
	}
	want := text[:i] + b.String() + text[j+len(endMark):]
	if want == text {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("%s is out of date with the settings; run: go test ./internal/server -run TestConfigurationDoc -update", path)
}
