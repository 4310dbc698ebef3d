package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds the nodes one schema may expand to through YAML aliases
// (a "billion laughs" catalog fails instead of eating memory).
const maxNodes = 1 << 20

// toJSON converts a YAML node to compact JSON, keeping the key order of
// mappings (codegen emits properties in the order they are written).
func toJSON(n *yaml.Node) (json.RawMessage, error) {
	var b bytes.Buffer
	budget := maxNodes
	if err := writeNode(&b, n, &budget, 0); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeNode(b *bytes.Buffer, n *yaml.Node, budget *int, depth int) error {
	if *budget--; *budget < 0 {
		return errors.New("too large (YAML aliases expand to over a million nodes)")
	}
	if depth > 200 {
		return errors.New("nested too deeply")
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return errors.New("unresolved alias")
		}
		return writeNode(b, n.Alias, budget, depth+1)
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return errors.New("empty document")
		}
		return writeNode(b, n.Content[0], budget, depth+1)
	case yaml.MappingNode:
		b.WriteByte('{')
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolve(n.Content[i])
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				return fmt.Errorf("line %d: keys must be strings", k.Line)
			}
			if seen[k.Value] {
				return fmt.Errorf("line %d: key %q defined twice", k.Line, k.Value)
			}
			seen[k.Value] = true
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, k.Value)
			b.WriteByte(':')
			if err := writeNode(b, n.Content[i+1], budget, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeNode(b, c, budget, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case yaml.ScalarNode:
		return writeScalar(b, n)
	default:
		return fmt.Errorf("line %d: unsupported YAML node", n.Line)
	}
	return nil
}

func writeScalar(b *bytes.Buffer, n *yaml.Node) error {
	switch n.ShortTag() {
	case "!!null":
		b.WriteString("null")
	case "!!bool":
		var v bool
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: %v", n.Line, err)
		}
		b.WriteString(strconv.FormatBool(v))
	case "!!int":
		var v int64
		if err := n.Decode(&v); err == nil {
			b.WriteString(strconv.FormatInt(v, 10))
			return nil
		}
		var u uint64
		if err := n.Decode(&u); err == nil {
			b.WriteString(strconv.FormatUint(u, 10))
			return nil
		}
		return writeFloat(b, n)
	case "!!float":
		return writeFloat(b, n)
	default: // !!str, !!timestamp, !!binary and custom tags: the text
		writeString(b, n.Value)
	}
	return nil
}

func writeFloat(b *bytes.Buffer, n *yaml.Node) error {
	// A JSON number is written as it was (1.0 stays 1.0, 1e3 stays 1e3).
	if json.Valid([]byte(n.Value)) {
		if _, err := strconv.ParseFloat(n.Value, 64); err == nil {
			b.WriteString(n.Value)
			return nil
		}
	}
	var f float64
	if err := n.Decode(&f); err != nil {
		return fmt.Errorf("line %d: %q is not a number", n.Line, n.Value)
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return fmt.Errorf("line %d: %q has no JSON form", n.Line, n.Value)
	}
	b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	return nil
}
