package demo_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The demo's sources, relative to this package.
const demoSources = "../../../web/demo"

// TestBuildIsFresh fails when the committed build in static/ was not made
// from the sources in web/demo: it recomputes the hash that the build
// records in static/sources.sha256 (see web/demo/vite.config.ts).
func TestBuildIsFresh(t *testing.T) {
	recorded, err := os.ReadFile("static/sources.sha256")
	if err != nil {
		t.Fatal(err)
	}
	got, err := hashSources(demoSources)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSpace(string(recorded)); got != want {
		t.Fatalf("the committed demo build is stale: web/demo hashes to %s, static/sources.sha256 says %s.\n"+
			"Rebuild and commit it: cd web && npm ci && npm run build && npm run build -w @ssehub/demo", got, want)
	}
}

var testFile = regexp.MustCompile(`\.test\.tsx?$`)

// hashSources is hashSources of web/demo/vite.config.ts: for each source
// file, sorted by path, "path\n" + hex sha256 of its content (CRLF read as
// LF) + "\n"; the hash is the hex sha256 of all that.
func hashSources(dir string) (string, error) {
	files := []string{"index.html", "package.json", "tsconfig.json", "vite.config.ts"}
	err := filepath.WalkDir(filepath.Join(dir, "src"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		files = append(files, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		return "", err
	}
	files = slices.DeleteFunc(files, testFile.MatchString)
	slices.Sort(files)
	all := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			return "", err
		}
		sum := sha256.Sum256([]byte(strings.ReplaceAll(string(b), "\r\n", "\n")))
		fmt.Fprintf(all, "%s\n%s\n", f, hex.EncodeToString(sum[:]))
	}
	return hex.EncodeToString(all.Sum(nil)), nil
}
