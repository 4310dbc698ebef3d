package sse

import "unicode/utf8"

// decodeUTF8 returns b as a string, with each invalid sequence replaced by
// U+FFFD the way the WHATWG Encoding Standard's UTF-8 decoder does it (and so
// browsers): one U+FFFD per maximal subpart of an ill-formed sequence, where
// Go's own conversions would use one per byte or one per run.
//
// Decoding the stream as a whole and decoding pieces of it cut at ASCII bytes
// give the same result, because an ill-formed sequence always ends before an
// ASCII byte. That lets the Decoder split lines and fields on raw bytes and
// decode only the values it returns.
func decodeUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b)+8)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || n > 1 {
			out = append(out, b[i:i+n]...)
			i += n
			continue
		}
		out = utf8.AppendRune(out, utf8.RuneError)
		i += maximalSubpart(b[i:])
	}
	return string(out)
}

// maximalSubpart returns the length of the ill-formed sequence at the start
// of b that the WHATWG UTF-8 decoder replaces with one U+FFFD: the lead byte
// and every following byte that could still continue it. b must start with
// an ill-formed sequence.
func maximalSubpart(b []byte) int {
	lo, hi := byte(0x80), byte(0xBF)
	var need int
	switch c := b[0]; {
	case 0xC2 <= c && c <= 0xDF:
		need = 1
	case 0xE0 <= c && c <= 0xEF:
		need = 2
		if c == 0xE0 {
			lo = 0xA0
		} else if c == 0xED {
			hi = 0x9F // no surrogates
		}
	case 0xF0 <= c && c <= 0xF4:
		need = 3
		if c == 0xF0 {
			lo = 0x90
		} else if c == 0xF4 {
			hi = 0x8F // nothing above U+10FFFF
		}
	default:
		return 1
	}
	n := 1
	for ; n <= need && n < len(b); n++ {
		if b[n] < lo || b[n] > hi {
			break
		}
		lo, hi = 0x80, 0xBF
	}
	return n
}
