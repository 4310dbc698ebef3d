package ssehttp

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/ssehttp/internal/netwatch"
)

// NewStreamHandler returns the handler of GET /api/sse: it authenticates
// the request, authorizes the channels of ?channels=a,b, registers the
// connection and streams to it until the client leaves.
//
// Errors before streaming are JSON: 401 bad or missing token, 403 channel
// not permitted, 429 connection limit (with Retry-After), 503 with code
// sse_disabled when an admin disabled streaming.
func NewStreamHandler(cfg Config) http.Handler {
	cfg = cfg.withDefaults()
	return &streamHandler{cfg: cfg}
}

type streamHandler struct {
	cfg   Config
	watch netwatch.Watcher
}

func (s *streamHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	id, err := s.cfg.Authenticator.Authenticate(r)
	if err != nil {
		WriteError(w, err)
		return
	}
	if id.TenantID == "" {
		WriteError(w, fmt.Errorf("%w: a stream needs a token bound to a tenant", auth.ErrForbidden))
		return
	}
	channels, err := parseChannels(r.URL.Query()["channels"], s.cfg.MaxChannels)
	if err != nil {
		WriteError(w, err)
		return
	}
	for _, ch := range channels {
		if err := s.cfg.Authorizer.AuthorizeChannel(r.Context(), id, ch); err != nil {
			WriteError(w, err)
			return
		}
	}
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("lastEventId")
	}
	if len(last) > 256 {
		last = "" // not an id of ours: treat as a fresh connection
	}
	c, err := s.cfg.Hub.Connect(hub.ConnInfo{
		TenantID: id.TenantID, UserID: id.UserID, Channels: channels,
		LastEventID: last, ExpiresAt: id.ExpiresAt,
	})
	if err != nil {
		WriteError(w, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache, no-transform")
	h.Set("X-Accel-Buffering", "no")
	if r.ProtoMajor == 1 {
		h.Set("Connection", "keep-alive")
	}
	if r.Method == http.MethodHead {
		c.Close()
		w.WriteHeader(http.StatusOK)
		return
	}
	rc := http.NewResponseController(w) // it sees through wrappers with Unwrap
	if !s.cfg.StandardStreams && r.ProtoMajor == 1 && r.TLS == nil && s.detach(w, rc, r, c) {
		return
	}
	w.WriteHeader(http.StatusOK)
	c.Serve(r.Context(), responseWriter{w, rc})
}

// responseWriter adapts an http.ResponseWriter to hub.Writer.
type responseWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func (w responseWriter) Flush() error                       { return w.rc.Flush() }
func (w responseWriter) SetWriteDeadline(t time.Time) error { return w.rc.SetWriteDeadline(t) }

// parseChannels splits the values of ?channels= on commas, drops empty and
// duplicate names, and validates each.
func parseChannels(values []string, max int) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, v := range values {
		for ch := range strings.SplitSeq(v, ",") {
			ch = strings.TrimSpace(ch)
			if ch == "" || seen[ch] {
				continue
			}
			if err := hub.ValidateChannel(ch); err != nil {
				return nil, err
			}
			seen[ch] = true
			out = append(out, ch)
		}
	}
	if len(out) > max {
		return nil, &Error{Status: 400, Code: CodeInvalid, Message: fmt.Sprintf("at most %d channels per connection", max)}
	}
	return out, nil
}
