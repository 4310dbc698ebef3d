package apidoc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/ssehub/ssehub/ssehttp"
)

// Mount serves the OpenAPI and AsyncAPI documents on mux at
// ssehttp.PathOpenAPI and ssehttp.PathAsyncAPI, built once, with the
// catalog's schemas when catalogSchema is not nil. Anyone may read them.
func Mount(mux *http.ServeMux, catalogSchema []byte) error {
	openapi, err := OpenAPI(catalogSchema)
	if err != nil {
		return err
	}
	asyncapi, err := AsyncAPI(catalogSchema)
	if err != nil {
		return err
	}
	mux.Handle(ssehttp.PathOpenAPI, Handler(openapi))
	mux.Handle(ssehttp.PathAsyncAPI, Handler(asyncapi))
	return nil
}

// Handler serves doc as application/json to GET and HEAD (with an ETag,
// so a client can revalidate), and 405 with the JSON error body to other
// methods.
func Handler(doc []byte) http.Handler {
	sum := sha256.Sum256(doc)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			ssehttp.WriteError(w, &ssehttp.Error{Status: http.StatusMethodNotAllowed, Code: ssehttp.CodeMethodNotAllowed, Message: "use GET"})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("ETag", etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(doc))
	})
}
