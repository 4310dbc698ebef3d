package server

import (
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strings"
)

// toolEnv are SSEHUB_* variables read by tools and clients that may share
// the server's environment (the load tool, examples, test suites); the
// server ignores them. Everything else with the prefix must name a setting.
var toolEnv = map[string]bool{
	"SSEHUB_BIN": true, "SSEHUB_URL": true, "SSEHUB_TOKEN": true, "SSEHUB_PUBLISHER_TOKEN": true,
	"SSEHUB_LOAD_ROLE": true, "SSEHUB_EXAMPLE": true,
}

// envSynonyms are words people reach for instead of the setting's own.
var envSynonyms = strings.NewReplacer("CLIENTS", "CONNS", "CONNECTIONS", "CONNS", "SECRET_KEY", "SECRET", "PORT", "ADDR")

// checkEnviron refuses SSEHUB_* variables (in os.Environ form) that name
// no setting, naming the closest one for each: a mistyped variable would
// otherwise be ignored without a word, and a mistyped key variable would
// even start dev mode.
func checkEnviron(environ []string) error {
	valid := map[string]bool{}
	var names []string
	for _, s := range Settings() {
		valid[s.Env] = true
		names = append(names, s.Env)
	}
	var bad []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "SSEHUB_") || valid[k] || toolEnv[k] || strings.HasPrefix(k, "SSEHUB_TEST_") {
			continue
		}
		bad = append(bad, fmt.Sprintf("%s is not a setting (did you mean %s?)", k, closest(k, names)))
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return fmt.Errorf("unknown environment variable: %s; every setting's variable is listed by 'ssehub serve -h'", strings.Join(bad, "; "))
}

// closest returns the name nearest to k: a name k extends (HEARTBEAT for
// HEARTBEAT_INTERVAL), else the least edit distance after synonyms.
func closest(k string, names []string) string {
	best, bestD := "", 1<<30
	for _, n := range names {
		if strings.HasPrefix(k, n+"_") && len(n) > len(best) && bestD != 0 {
			best, bestD = n, -len(n)
		}
	}
	if bestD < 0 {
		return best
	}
	kk := envSynonyms.Replace(k)
	for _, n := range names {
		if d := editDistance(kk, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// loopback reports whether addr (host:port) listens on loopback only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// secretSettings are never logged, only whether they are set.
var secretSettings = map[string]bool{"jwt-secret": true, "cluster-key": true}

// logEffective logs every setting in force, secrets redacted and URLs
// without passwords, as one line.
func (c *Config) logEffective(log *slog.Logger, dev bool) {
	attrs := []any{"dev_mode", dev}
	for _, s := range c.settings() {
		v := s.value.String()
		switch {
		case secretSettings[s.name] && v != "":
			v = fmt.Sprintf("(set, %d bytes)", len(v))
		case s.name == "broker" || s.name == "jwks-url":
			if v != "" {
				v = redact(v)
			}
		}
		attrs = append(attrs, strings.ReplaceAll(s.name, "-", "_"), v)
	}
	log.Info("effective configuration", attrs...)
}
