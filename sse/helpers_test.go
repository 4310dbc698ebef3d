package sse_test

import (
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ssehub/ssehub/sse"
)

// decoded is everything a Decoder reports about one stream.
type decoded struct {
	Events []sse.Event
	LastID string
	Retry  time.Duration
	Err    string // "" when the stream ended with io.EOF
}

func (r decoded) equal(o decoded) bool {
	return slices.Equal(r.Events, o.Events) && r.LastID == o.LastID && r.Retry == o.Retry && r.Err == o.Err
}

// decodeAll decodes r to the end with a Decoder set up by setup (may be nil).
func decodeAll(t testing.TB, r io.Reader, setup func(*sse.Decoder)) decoded {
	t.Helper()
	dec := sse.NewDecoder(r)
	if setup != nil {
		setup(dec)
	}
	var res decoded
	for {
		ev, err := dec.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				res.Err = err.Error()
			}
			break
		}
		res.Events = append(res.Events, ev)
	}
	res.LastID, res.Retry = dec.LastEventID(), dec.Retry()
	return res
}

func withComments(d *sse.Decoder) { d.Comments = true }

// partsReader returns each part in its own Read call, then err (io.EOF if nil).
type partsReader struct {
	parts []string
	err   error
}

func chunked(in string, cut int) io.Reader {
	return &partsReader{parts: []string{in[:cut], in[cut:]}}
}

func (r *partsReader) Read(p []byte) (int, error) {
	for len(r.parts) > 0 && r.parts[0] == "" {
		r.parts = r.parts[1:]
	}
	if len(r.parts) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		return 0, io.EOF
	}
	n := copy(p, r.parts[0])
	r.parts[0] = r.parts[0][n:]
	return n, nil
}

// refDecode is a literal, unoptimised transcription of the WHATWG "event
// stream interpretation" rules, the oracle FuzzDecode checks the Decoder
// against. Limits are not modelled.
func refDecode(in string, comments bool) decoded {
	s := refUTF8(strings.TrimPrefix(in, "\xEF\xBB\xBF"))
	var (
		res              decoded
		data, typ, idBuf string
		blockRetry       time.Duration
	)
	for {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			break // an unterminated last line is discarded
		}
		line := s[:i]
		if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			i++
		}
		s = s[i+1:]
		switch {
		case line == "":
			res.LastID = idBuf
			retry := blockRetry
			blockRetry = 0
			if data == "" {
				typ = ""
				continue
			}
			name := typ
			if name == "" {
				name = "message"
			}
			res.Events = append(res.Events, sse.Event{
				ID: idBuf, Name: name, Data: strings.TrimSuffix(data, "\n"), Retry: retry,
			})
			data, typ = "", ""
		case line[0] == ':':
			if comments {
				res.Events = append(res.Events, sse.Event{Comment: line[1:]})
			}
		default:
			field, value, found := strings.Cut(line, ":")
			if found {
				value = strings.TrimPrefix(value, " ")
			}
			switch field {
			case "event":
				typ = value
			case "data":
				data += value + "\n"
			case "id":
				if !strings.Contains(value, "\x00") {
					idBuf = value
				}
			case "retry":
				if value == "" || strings.Trim(value, "0123456789") != "" {
					break
				}
				d := time.Duration(math.MaxInt64)
				if ms, err := strconv.ParseInt(value, 10, 64); err == nil && ms <= math.MaxInt64/int64(time.Millisecond) {
					d = time.Duration(ms) * time.Millisecond
				}
				res.Retry, blockRetry = d, d
			}
		}
	}
	return res
}

// refUTF8 replaces ill-formed UTF-8 the way the WHATWG Encoding Standard
// does: one U+FFFD per maximal subpart, the longest run of bytes that is
// still a prefix of some well-formed sequence.
func refUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError || n > 1 {
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		k := 1
		for j := 2; j <= 3 && i+j <= len(s) && isUTF8Prefix(s[i:i+j]); j++ {
			k = j
		}
		b.WriteRune(utf8.RuneError)
		i += k
	}
	return b.String()
}

// isUTF8Prefix reports whether continuation bytes can complete p into one
// well-formed sequence. Only a lead byte restricts the byte after it, so
// padding with 0x80 decides it.
func isUTF8Prefix(p string) bool {
	for total := len(p) + 1; total <= utf8.UTFMax; total++ {
		c := p + strings.Repeat("\x80", total-len(p))
		if _, n := utf8.DecodeRuneInString(c); n == len(c) {
			return true
		}
	}
	return false
}
