package demo

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// static is the build of web/demo (npm run build -w @ssehub/demo), committed
// so that `go run ./cmd/ssehub` needs no Node. static/sources.sha256 is the
// hash of the sources it was built from; TestBuildIsFresh compares it with
// the sources in the tree.
//
//go:embed static
var static embed.FS

// asset is one embedded file, ready to serve.
type asset struct {
	name, ctype, etag string
	body, gz          []byte // gz is nil when compressing does not pay
}

type assets struct {
	files map[string]*asset // by path under static/
}

func loadAssets() (*assets, error) {
	a := &assets{files: map[string]*asset{}}
	err := fs.WalkDir(static, "static", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(body)
		f := &asset{name: name, body: body, etag: `"` + hex.EncodeToString(sum[:8]) + `"`,
			ctype: mime.TypeByExtension(path.Ext(name))}
		if f.ctype == "" {
			f.ctype = "application/octet-stream"
		}
		if len(body) > 1024 {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			_, _ = zw.Write(body)
			_ = zw.Close()
			if buf.Len() < len(body)*9/10 {
				f.gz = buf.Bytes()
			}
		}
		a.files[name] = f
		return nil
	})
	return a, err
}

// contentSecurityPolicy allows the page only its own scripts, styles and
// API; the favicon is a data: URL.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; " +
	"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// page serves the app's HTML; the app routes / and /dashboard itself.
func (a *assets) page(w http.ResponseWriter, r *http.Request) {
	f := a.files["index.html"]
	if f == nil {
		http.Error(w, "the demo app is not built: run `npm run build -w @ssehub/demo` in web/", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
	a.serve(w, r, f)
}

// file serves /assets/{name}.
func (a *assets) file(w http.ResponseWriter, r *http.Request) {
	f := a.files["assets/"+r.PathValue("name")]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	a.serve(w, r, f)
}

func (a *assets) serve(w http.ResponseWriter, r *http.Request, f *asset) {
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	// The file names carry no hash, so browsers revalidate every time;
	// the ETag makes that a 304.
	h.Set("Cache-Control", "no-cache")
	body, etag := f.body, f.etag
	if f.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			body, etag = f.gz, strings.TrimSuffix(f.etag, `"`)+`-gz"`
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func acceptsGzip(r *http.Request) bool {
	for part := range strings.SplitSeq(r.Header.Get("Accept-Encoding"), ",") {
		coding, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}
