package codegen

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// schemaDoc returns the JSDoc lines of a schema: its description and the
// constraints TypeScript cannot express.
func schemaDoc(s *value) []string {
	if s == nil || s.kind != 'o' {
		return nil
	}
	var lines []string
	if d := strings.TrimSpace(s.getString("description")); d != "" {
		lines = append(lines, strings.Split(d, "\n")...)
	}
	var tags []string
	if f := s.getString("format"); f != "" {
		tags = append(tags, "@format "+f)
	}
	if p := s.getString("pattern"); p != "" {
		tags = append(tags, "@pattern "+p)
	}
	for _, kw := range []string{"minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems"} {
		if v := s.get(kw); v != nil && v.kind == 'n' {
			tags = append(tags, "@"+kw+" "+v.str)
		}
	}
	if d := s.get("default"); d != nil && d.kind != 'o' && d.kind != 'a' {
		tags = append(tags, "@default "+literal(d))
	}
	if d := s.get("deprecated"); d != nil && d.kind == 'b' && d.b {
		tags = append(tags, "@deprecated")
	}
	if len(lines) > 0 && len(tags) > 0 {
		lines = append(lines, "")
	}
	return append(lines, tags...)
}

// eventDoc returns the JSDoc lines of an event's payload type.
func eventDoc(e event) []string {
	lines := schemaDoc(e.schema)
	if len(lines) > 0 {
		lines = append(lines, "")
	}
	lines = append(lines, fmt.Sprintf("Payload of the event `%s`.", e.name))
	if t := e.ext.strings("targets"); len(t) > 0 {
		lines = append(lines, "Targets: "+strings.Join(t, ", ")+".")
	}
	if rl := e.ext.get("rateLimit"); rl != nil {
		lines = append(lines, fmt.Sprintf("Rate limit: one per %s per target (%s).", rl.getString("interval"), rl.getString("mode")))
	}
	if san := e.ext.get("sanitize"); san != nil && san.kind == 'o' && len(san.members) > 0 {
		m := map[string]string{}
		for _, mem := range san.members {
			if mem.val.kind == 's' {
				m[mem.key] = mem.val.str
			}
		}
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, fmt.Sprintf("%s (%s)", k, m[k]))
		}
		lines = append(lines, "Sanitized HTML: "+strings.Join(parts, ", ")+".")
	}
	return lines
}

// jsdoc renders lines as a JSDoc comment indented by ind: one line when
// it fits, else a block.
func jsdoc(ind string, lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	for i, l := range lines {
		lines[i] = strings.TrimRight(strings.ReplaceAll(l, "*/", "*\\/"), " \t\r")
	}
	if len(lines) == 1 && len(ind)+len(lines[0])+7 <= lineWidth {
		return ind + "/** " + lines[0] + " */\n"
	}
	var b strings.Builder
	b.WriteString(ind + "/**\n")
	for _, l := range lines {
		if l == "" {
			b.WriteString(ind + " *\n")
		} else {
			b.WriteString(ind + " * " + l + "\n")
		}
	}
	b.WriteString(ind + " */\n")
	return b.String()
}
