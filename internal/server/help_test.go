package server

import (
	"bytes"
	"strings"
	"testing"
)

// TestHelpListsSubcommands: `ssehub --help` names every subcommand, gen
// and its languages included.
func TestHelpListsSubcommands(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "help"} {
		var out, errOut bytes.Buffer
		if code := Main([]string{arg}, &out, &errOut); code != 0 {
			t.Fatalf("%s: exit %d", arg, code)
		}
		for _, want := range []string{"serve", "token", "version", "gen ts|python|openapi|asyncapi"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%s: %q does not mention %q", arg, out.String(), want)
			}
		}
	}
}
