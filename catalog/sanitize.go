package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/microcosm-cc/bluemonday"
)

// The two policies are built once: bluemonday policies are safe for
// concurrent use once configured.
var (
	strictPolicy = bluemonday.StrictPolicy()
	ugcPolicy    = bluemonday.UGCPolicy()
)

// Sanitize cleans s with the named policy (PolicyStrict or PolicyUGC). The
// result is HTML: text is escaped (& becomes &amp;), so render it as HTML,
// not as text. Sanitizing twice gives the same result as once.
func Sanitize(policy, s string) (string, error) {
	switch policy {
	case PolicyStrict:
		return strictPolicy.Sanitize(s), nil
	case PolicyUGC:
		return ugcPolicy.Sanitize(s), nil
	}
	return "", fmt.Errorf("%w: sanitize policy %q is not %s or %s", ErrInvalid, policy, PolicyStrict, PolicyUGC)
}

// rule is one parsed entry of Event.Sanitize.
type rule struct {
	path   []string // "*" matches any member or element
	policy *bluemonday.Policy
}

// parseRule reads a JSON pointer ("/a/b") or a dotted path ("a.b").
func parseRule(path, policy string) (rule, error) {
	var r rule
	switch policy {
	case PolicyStrict:
		r.policy = strictPolicy
	case PolicyUGC:
		r.policy = ugcPolicy
	default:
		return r, fmt.Errorf("%q: policy %q is not %s or %s", path, policy, PolicyStrict, PolicyUGC)
	}
	switch {
	case path == "" || path == "/":
		return r, fmt.Errorf("%q: empty path (the payload itself cannot be a user-content field)", path)
	case path[0] == '/':
		for _, tok := range strings.Split(path[1:], "/") {
			t, err := unescapePointer(tok)
			if err != nil {
				return r, fmt.Errorf("%q: %v", path, err)
			}
			r.path = append(r.path, t)
		}
	default:
		r.path = strings.Split(path, ".")
	}
	for _, t := range r.path {
		if t == "" {
			return r, fmt.Errorf("%q: empty segment", path)
		}
	}
	return r, nil
}

func unescapePointer(tok string) (string, error) {
	if !strings.Contains(tok, "~") {
		return tok, nil
	}
	var b strings.Builder
	for i := 0; i < len(tok); i++ {
		if tok[i] != '~' {
			b.WriteByte(tok[i])
			continue
		}
		if i+1 < len(tok) && tok[i+1] == '0' {
			b.WriteByte('~')
		} else if i+1 < len(tok) && tok[i+1] == '1' {
			b.WriteByte('/')
		} else {
			return "", errors.New("~ must be followed by 0 or 1 in a JSON pointer")
		}
		i++
	}
	return b.String(), nil
}

// matches reports whether the rule's path is the current path.
func (r *rule) matches(cur []string) bool {
	if len(cur) != len(r.path) {
		return false
	}
	for i, t := range r.path {
		if t != "*" && t != cur[i] {
			return false
		}
	}
	return true
}

// prefixOf reports whether the rule's path may continue below cur.
func (r *rule) prefixOf(cur []string) bool {
	if len(cur) >= len(r.path) {
		return false
	}
	for i, c := range cur {
		if t := r.path[i]; t != "*" && t != c {
			return false
		}
	}
	return true
}

// sanitizer rewrites the strings at the rules' paths of a JSON document,
// copying every other byte unchanged (key order, numbers, spacing).
type sanitizer struct {
	rules []rule
	in    []byte
	pos   int
	out   []byte // nil until the first change
	done  int    // in[:done] is accounted for in out
	path  []string
}

// sanitizeJSON applies rules to data, which must be valid JSON. It returns
// data itself when nothing changed.
func sanitizeJSON(rules []rule, data []byte) ([]byte, error) {
	s := sanitizer{rules: rules, in: data}
	s.ws()
	if err := s.value(); err != nil {
		return nil, err
	}
	if s.out == nil {
		return data, nil
	}
	return append(s.out, data[s.done:]...), nil
}

var errSyntax = errors.New("catalog: malformed JSON")

func (s *sanitizer) ws() {
	for s.pos < len(s.in) {
		switch s.in[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

// wanted reports whether any rule matches at or below the current path.
func (s *sanitizer) wanted() (here, below bool) {
	for i := range s.rules {
		if s.rules[i].matches(s.path) {
			here = true
		} else if s.rules[i].prefixOf(s.path) {
			below = true
		}
	}
	return here, below
}

func (s *sanitizer) value() error {
	if s.pos >= len(s.in) {
		return errSyntax
	}
	here, below := s.wanted()
	switch s.in[s.pos] {
	case '"':
		start := s.pos
		end, err := s.skipString()
		if err != nil {
			return err
		}
		if here {
			return s.rewrite(start, end)
		}
		return nil
	case '{':
		if !below {
			return s.skipComposite()
		}
		return s.object()
	case '[':
		if !below {
			return s.skipComposite()
		}
		return s.array()
	}
	return s.skipScalar()
}

// rewrite sanitizes the string literal in[start:end].
func (s *sanitizer) rewrite(start, end int) error {
	raw := s.in[start+1 : end-1]
	if bytes.IndexByte(raw, '\\') < 0 && !bytes.ContainsAny(raw, "<>&'\"\x00") {
		return nil // nothing a policy would change: no markup, no entity
	}
	var str string
	if err := json.Unmarshal(s.in[start:end], &str); err != nil {
		return errSyntax
	}
	if !strings.ContainsAny(str, "<>&'\"\x00") {
		return nil
	}
	var p *bluemonday.Policy
	for i := range s.rules {
		if s.rules[i].matches(s.path) {
			p = s.rules[i].policy
			if p == strictPolicy {
				break // the strictest rule wins
			}
		}
	}
	clean := p.Sanitize(str)
	if clean == str {
		return nil
	}
	if s.out == nil {
		s.out = make([]byte, 0, len(s.in)+len(clean)-len(str)+16)
	}
	s.out = append(s.out, s.in[s.done:start]...)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(clean); err != nil {
		return err
	}
	s.out = append(s.out, bytes.TrimSuffix(b.Bytes(), []byte{'\n'})...)
	s.done = end
	return nil
}

func (s *sanitizer) object() error {
	s.pos++ // {
	s.ws()
	if s.pos < len(s.in) && s.in[s.pos] == '}' {
		s.pos++
		return nil
	}
	for {
		s.ws()
		if s.pos >= len(s.in) || s.in[s.pos] != '"' {
			return errSyntax
		}
		start := s.pos
		end, err := s.skipString()
		if err != nil {
			return err
		}
		var key string
		if err := json.Unmarshal(s.in[start:end], &key); err != nil {
			return errSyntax
		}
		s.ws()
		if s.pos >= len(s.in) || s.in[s.pos] != ':' {
			return errSyntax
		}
		s.pos++
		s.ws()
		s.path = append(s.path, key)
		err = s.value()
		s.path = s.path[:len(s.path)-1]
		if err != nil {
			return err
		}
		s.ws()
		if s.pos >= len(s.in) {
			return errSyntax
		}
		switch s.in[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return errSyntax
		}
	}
}

func (s *sanitizer) array() error {
	s.pos++ // [
	s.ws()
	if s.pos < len(s.in) && s.in[s.pos] == ']' {
		s.pos++
		return nil
	}
	for i := 0; ; i++ {
		s.ws()
		s.path = append(s.path, strconv.Itoa(i))
		err := s.value()
		s.path = s.path[:len(s.path)-1]
		if err != nil {
			return err
		}
		s.ws()
		if s.pos >= len(s.in) {
			return errSyntax
		}
		switch s.in[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return errSyntax
		}
	}
}

// skipString moves past the string literal at pos and returns its end.
func (s *sanitizer) skipString() (int, error) {
	for i := s.pos + 1; i < len(s.in); i++ {
		switch s.in[i] {
		case '\\':
			i++
		case '"':
			s.pos = i + 1
			return s.pos, nil
		}
	}
	return 0, errSyntax
}

// skipComposite moves past the object or array at pos.
func (s *sanitizer) skipComposite() error {
	depth := 0
	for s.pos < len(s.in) {
		switch s.in[s.pos] {
		case '"':
			if _, err := s.skipString(); err != nil {
				return err
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				s.pos++
				return nil
			}
		}
		s.pos++
	}
	return errSyntax
}

func (s *sanitizer) skipScalar() error {
	start := s.pos
	for s.pos < len(s.in) {
		switch s.in[s.pos] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			if s.pos == start {
				return errSyntax
			}
			return nil
		}
		s.pos++
	}
	if s.pos == start {
		return errSyntax
	}
	return nil
}
