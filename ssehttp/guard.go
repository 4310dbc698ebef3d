package ssehttp

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// GuardConfig configures NewRequestGuard.
type GuardConfig struct {
	// BodyTimeout is how long a request that is not a stream may take to
	// send its whole body, counted from when its head was read. Zero means
	// 10 seconds.
	BodyTimeout time.Duration
	// MaxBodyBytes caps any request body; a handler reading past it gets
	// an error and the client 413. Zero means 1 MiB.
	MaxBodyBytes int64
	// IsStream reports whether r is a stream request, which has no body and
	// is left alone. Nil means GET or HEAD of PathStream.
	IsStream func(r *http.Request) bool
	// CookieName is the cookie that carries a token (auth.JWTConfig's
	// CookieName). A request that carries it and no Authorization header is
	// cookie-authenticated, and refused with 403 when it comes from another
	// site (Sec-Fetch-Site, else Origin) whose origin is not in Origins.
	// Empty means no cookie is read and nothing is checked.
	CookieName string
	// Origins are the origins whose pages may use the cookie from another
	// site: --cors-origins. "*" allows none (CORS "*" carries no
	// credentials).
	Origins []string
	// QueryParam is the query parameter that may carry a token on stream
	// requests only (EventSource cannot set headers); on any other request
	// it is refused with 400, so tokens stay out of access logs of other
	// routes. Empty means none is checked.
	QueryParam string
}

// NewRequestGuard returns next wrapped so that no request can hold its
// connection by not sending its body:
//
//   - a stream request (see GuardConfig.IsStream) that announces a body is
//     refused with 400 and the connection closed; streams take no body;
//   - every other request with a body gets a read deadline of BodyTimeout
//     and a body capped at MaxBodyBytes;
//   - whenever a handler answers before it has read the whole body (a 401
//     before the body of a publish, a 404, a GET that sent one anyway), the
//     answer carries Connection: close and net/http closes the connection
//     after it, instead of waiting to read and discard the rest.
//
// A handler that hits the deadline gets a timeout error from the body,
// which the package's handlers answer 408.
func NewRequestGuard(cfg GuardConfig, next http.Handler) http.Handler {
	if cfg.BodyTimeout == 0 {
		cfg.BodyTimeout = 10 * time.Second
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.IsStream == nil {
		cfg.IsStream = IsStreamRequest
	}
	origins := map[string]bool{}
	for _, o := range cfg.Origins {
		if o != "*" {
			origins[strings.ToLower(o)] = true
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hasBody := r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody
		refuse := func(e *Error) {
			if hasBody {
				w.Header().Set("Connection", "close")
			}
			WriteError(w, e)
		}
		stream := cfg.IsStream(r)
		if r.Method == http.MethodPost && (hasBody || r.Header.Get("Content-Type") != "") && !isJSON(r.Header.Get("Content-Type")) {
			refuse(&Error{Status: 415, Code: CodeUnsupportedMedia, Message: "send Content-Type: application/json"})
			return
		}
		if cfg.QueryParam != "" && !(stream && r.Method == http.MethodGet) && r.URL.Query().Has(cfg.QueryParam) {
			refuse(&Error{Status: 400, Code: CodeInvalid, Message: "?" + cfg.QueryParam + "= is accepted only on GET " + PathStream + "; send Authorization: Bearer", Field: cfg.QueryParam})
			return
		}
		if cfg.CookieName != "" && crossSiteCookie(r, cfg.CookieName, cfg.QueryParam, origins) {
			refuse(&Error{Status: 403, Code: CodeForbidden, Message: "a request authenticated by cookie from another site; send Authorization: Bearer, or add the page's origin to --cors-origins"})
			return
		}
		if stream {
			if hasBody {
				w.Header().Set("Connection", "close")
				WriteError(w, &Error{Status: 400, Code: CodeInvalid, Message: "a stream request takes no body"})
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if !hasBody {
			next.ServeHTTP(w, r)
			return
		}
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(cfg.BodyTimeout))
		body := &eofBody{ReadCloser: http.MaxBytesReader(w, r.Body, cfg.MaxBodyBytes)}
		r2 := *r
		r2.Body = body
		next.ServeHTTP(&closeUnread{ResponseWriter: w, body: body}, &r2)
	})
}

// isJSON reports whether a Content-Type is application/json, compared
// case-insensitively, with any parameters.
func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && strings.EqualFold(mt, "application/json")
}

// crossSiteCookie reports whether r is authenticated by the cookie (it has
// the cookie, and no Authorization header or query token) and comes from
// a page of another site whose origin is not allowed. Sec-Fetch-Site
// decides when the browser sent it; else an Origin that is neither r's own
// host nor allowed; a request with neither (not from a browser, or from an
// old one) passes.
func crossSiteCookie(r *http.Request, cookie, query string, allowed map[string]bool) bool {
	if c, err := r.Cookie(cookie); err != nil || c.Value == "" {
		return false
	}
	if r.Header.Get("Authorization") != "" || (query != "" && r.URL.Query().Has(query)) {
		return false
	}
	origin := strings.ToLower(r.Header.Get("Origin"))
	if origin != "" && allowed[origin] {
		return false
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return false
	case "same-site", "cross-site":
		return true
	}
	if origin == "" || origin == "null" {
		return origin == "null"
	}
	u, err := url.Parse(origin)
	return err != nil || !strings.EqualFold(u.Host, r.Host)
}

// IsStreamRequest reports whether r is a GET or HEAD of PathStream.
func IsStreamRequest(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.Path == PathStream
}

// eofBody remembers whether its reader reached the end.
type eofBody struct {
	io.ReadCloser
	eof bool
}

func (b *eofBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

// closeUnread asks net/http to close the connection after the answer when
// the body was not read to its end.
type closeUnread struct {
	http.ResponseWriter
	body  *eofBody
	wrote bool
}

func (w *closeUnread) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		if !w.body.eof {
			w.Header().Set("Connection", "close")
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *closeUnread) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

func (w *closeUnread) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// readBodyError maps an error from reading a request body to the answer.
func readBodyError(err error, maxBody int64) *Error {
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &mbe):
		return &Error{Status: 413, Code: CodeTooLarge, Message: fmt.Sprintf("request body over %d bytes", mbe.Limit)}
	case errors.As(err, &ne) && ne.Timeout():
		return &Error{Status: 408, Code: CodeRequestTimeout, Message: "the request body did not arrive in time"}
	}
	return &Error{Status: 400, Code: CodeMalformed, Message: "cannot read body"}
}
