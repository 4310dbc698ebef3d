package server

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// refusals logs one Warn line per refused request (status 400 and up):
// status, error code and message, method, path, client address and
// request id. Lines are rate-limited (10 a second, bursts of 20); the next
// line written says how many were suppressed. Every response carries the
// request id in X-Request-Id: the client's, when it is a short token, or
// a made one.
type refusals struct {
	log        *slog.Logger
	trusted    []netip.Prefix
	lim        *rate.Limiter
	suppressed atomic.Int64
}

func newRefusals(log *slog.Logger, trusted []netip.Prefix) *refusals {
	return &refusals{log: log, trusted: trusted, lim: rate.NewLimiter(10, 20)}
}

// parsePrefixes parses --trusted-proxies: CIDRs or bare addresses,
// comma-separated.
func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range split(s) {
		if !strings.Contains(p, "/") {
			a, err := netip.ParseAddr(p)
			if err != nil {
				return nil, fmt.Errorf("%q: not an address or CIDR", p)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		pf, err := netip.ParsePrefix(p)
		if err != nil {
			return nil, fmt.Errorf("%q: not an address or CIDR", p)
		}
		out = append(out, pf.Masked())
	}
	return out, nil
}

func (rf *refusals) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status < 400 {
			return
		}
		if !rf.lim.Allow() {
			rf.suppressed.Add(1)
			return
		}
		var body struct {
			Error struct{ Code, Message string }
		}
		_ = json.Unmarshal(rec.body, &body)
		attrs := []any{"status", rec.status, "code", body.Error.Code, "reason", body.Error.Message,
			"method", r.Method, "path", r.URL.Path, "client_addr", rf.clientAddr(r), "request_id", id}
		if n := rf.suppressed.Swap(0); n > 0 {
			attrs = append(attrs, "suppressed", n)
		}
		rf.log.Warn("request refused", attrs...)
	})
}

// clientAddr is the peer's address, or, when the peer is a trusted proxy,
// the rightmost X-Forwarded-For entry that is not one.
func (rf *refusals) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if !rf.isTrusted(host) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		if _, err := netip.ParseAddr(h); err != nil {
			return host // garbage in the header: trust only the peer
		}
		if !rf.isTrusted(h) {
			return h
		}
		host = h
	}
	return host
}

func (rf *refusals) isTrusted(s string) bool {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range rf.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// validRequestID accepts up to 128 letters, digits and . _ - : as a
// request id from the client.
func validRequestID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == ':') {
			return false
		}
	}
	return true
}

// statusRecorder keeps the status and the first bytes of an error body.
type statusRecorder struct {
	http.ResponseWriter
	status int
	body   []byte
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	if s.status >= 400 && len(s.body) < 512 {
		s.body = append(s.body, p[:min(len(p), 512-len(s.body))]...)
	}
	return s.ResponseWriter.Write(p)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
