package codegen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// value is a JSON value that keeps the order of object members, so that
// generated interfaces list properties in the order the schema has them.
type value struct {
	kind    byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null
	members []member
	items   []*value
	str     string // string, or the number's literal text
	b       bool
}

type member struct {
	key string
	val *value
}

// get returns the member key of an object, or nil.
func (v *value) get(key string) *value {
	if v == nil || v.kind != 'o' {
		return nil
	}
	for _, m := range v.members {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

func (v *value) has(key string) bool { return v.get(key) != nil }

// getString returns the string member key, or "".
func (v *value) getString(key string) string {
	if s := v.get(key); s != nil && s.kind == 's' {
		return s.str
	}
	return ""
}

// strings returns the string items of the array member key.
func (v *value) strings(key string) []string {
	var out []string
	if a := v.get(key); a != nil && a.kind == 'a' {
		for _, it := range a.items {
			if it.kind == 's' {
				out = append(out, it.str)
			}
		}
	}
	return out
}

func parseValue(data []byte) (*value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON document")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (*value, error) {
	if depth > 256 {
		return nil, errors.New("nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			v := &value{kind: 'o'}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key %v is not a string", kt)
				}
				mv, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				v.members = append(v.members, member{key, mv})
			}
			_, err := dec.Token() // }
			return v, err
		case '[':
			v := &value{kind: 'a'}
			for dec.More() {
				it, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				v.items = append(v.items, it)
			}
			_, err := dec.Token() // ]
			return v, err
		}
	case string:
		return &value{kind: 's', str: t}, nil
	case json.Number:
		return &value{kind: 'n', str: t.String()}, nil
	case bool:
		return &value{kind: 'b', b: t}, nil
	case nil:
		return &value{kind: 'z'}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}
