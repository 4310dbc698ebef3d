package sse

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidField reports an event field that cannot be written without
// changing how the stream is framed or read. Errors returned by the encoding
// functions wrap it with detail; test for it with [errors.Is].
var ErrInvalidField = errors.New("sse: invalid field")

// AppendEvent appends the wire form of e to dst and returns the extended
// buffer. It does not allocate when dst has enough capacity, so a caller
// that reuses its buffer encodes events for free.
//
// The lines are written in the order id, event, retry, data, each as
// "field: value" with one space after the colon, followed by the blank line
// that dispatches the event. An empty ID or Name and a zero Retry write no
// line. Retry is written in whole milliseconds, truncated. Event.Comment is
// ignored.
//
// Data is split at every "\r\n", "\r" and "\n", and each piece becomes its
// own data line, so no payload can end an event early or add fields. A
// piece that begins with a space survives because the parser strips only the
// one space after the colon. An empty piece is written as a bare "data:"
// line, with no trailing space. Empty Data is therefore written as exactly one
// "data:" line: a browser dispatches an event only when its data buffer is
// non-empty, and one data line puts a single "\n" there, which the
// dispatch step strips again, so the event fires with data "".
//
// If ID or Name contains CR, LF or NUL, or Retry is negative, AppendEvent
// returns dst unchanged and an error wrapping [ErrInvalidField]. It never
// alters a field to make it fit.
func AppendEvent(dst []byte, e Event) ([]byte, error) {
	if err := checkField("id", e.ID); err != nil {
		return dst, err
	}
	if err := checkField("event name", e.Name); err != nil {
		return dst, err
	}
	if e.Retry < 0 {
		return dst, fmt.Errorf("%w: negative retry %v", ErrInvalidField, e.Retry)
	}
	if e.ID != "" {
		dst = append(dst, "id: "...)
		dst = append(dst, e.ID...)
		dst = append(dst, '\n')
	}
	if e.Name != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, e.Name...)
		dst = append(dst, '\n')
	}
	if e.Retry > 0 {
		dst = appendRetryLine(dst, e.Retry)
	}
	dst = appendLines(dst, "data: ", e.Data)
	return append(dst, '\n'), nil
}

// AppendComment appends text as comment lines followed by a blank line, and
// returns the extended buffer. Each line of text (split like Event.Data)
// becomes ":" followed by the line, with nothing added in between, so
// AppendComment(dst, "heartbeat") appends ":heartbeat\n\n". Browsers ignore
// comments; servers send them to keep idle connections open. Any text can be
// written, so there is no error.
func AppendComment(dst []byte, text string) []byte {
	dst = appendLines(dst, ":", text)
	return append(dst, '\n')
}

// AppendRetry appends a retry line that sets the client's reconnection time
// to d in whole milliseconds (truncated), followed by a blank line, and
// returns the extended buffer. A negative d is written as 0.
//
// The WHATWG rules apply a retry line as soon as it is read, so the blank
// line is not needed by browsers. It is written so that the retry line forms
// a block of its own: it never merges into the fields of whatever the caller
// writes next (a [Decoder] would otherwise report it as that event's
// Event.Retry), and parsers that act on whole blocks see it at once. The
// blank line dispatches nothing, because the block has no data.
func AppendRetry(dst []byte, d time.Duration) []byte {
	return append(appendRetryLine(dst, d), '\n')
}

// appendRetryLine appends "retry: <ms>\n", with negative d written as 0.
func appendRetryLine(dst []byte, d time.Duration) []byte {
	dst = append(dst, "retry: "...)
	dst = strconv.AppendInt(dst, max(d.Milliseconds(), 0), 10)
	return append(dst, '\n')
}

// appendLines appends one line per line of text, each as prefix followed by
// the line. An empty line is written as prefix without its trailing space.
// Lines end at "\r\n", "\r" or "\n"; text "" is one empty line.
func appendLines(dst []byte, prefix, text string) []byte {
	bare := strings.TrimSuffix(prefix, " ")
	for {
		i := indexLineEnd(text)
		line := text
		if i >= 0 {
			line = text[:i]
		}
		if line == "" {
			dst = append(dst, bare...)
		} else {
			dst = append(dst, prefix...)
			dst = append(dst, line...)
		}
		dst = append(dst, '\n')
		if i < 0 {
			return dst
		}
		if text[i] == '\r' && i+1 < len(text) && text[i+1] == '\n' {
			i++
		}
		text = text[i+1:]
	}
}

// indexLineEnd returns the index of the first CR or LF in s, or -1.
func indexLineEnd(s string) int {
	lf := strings.IndexByte(s, '\n')
	if lf < 0 {
		return strings.IndexByte(s, '\r')
	}
	if cr := strings.IndexByte(s[:lf], '\r'); cr >= 0 {
		return cr
	}
	return lf
}

// checkField reports whether v, the value of the named field, is free of the
// characters that would break its line: CR and LF end it, and NUL makes
// browsers ignore an id.
func checkField(field, v string) error {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\r':
			return fmt.Errorf("%w: %s contains CR", ErrInvalidField, field)
		case '\n':
			return fmt.Errorf("%w: %s contains LF", ErrInvalidField, field)
		case 0:
			return fmt.Errorf("%w: %s contains NUL", ErrInvalidField, field)
		}
	}
	return nil
}

// maxKeptBuffer is the largest encoding buffer an Encoder keeps for reuse,
// so that one huge event does not pin its memory for the stream's lifetime.
const maxKeptBuffer = 64 << 10

// An Encoder writes events to an io.Writer, one Write call per event,
// comment or retry. It reuses an internal buffer, so encoding does not
// allocate in the steady state. It never flushes: a caller streaming over
// HTTP flushes after each write it wants delivered (for example with
// [net/http.ResponseController.Flush]).
//
// An Encoder is not safe for concurrent use. It does not close its writer.
type Encoder struct {
	w   io.Writer
	buf []byte
}

// NewEncoder returns an Encoder that writes to w. It panics if w is nil.
func NewEncoder(w io.Writer) *Encoder {
	if w == nil {
		panic("sse: nil writer")
	}
	return &Encoder{w: w}
}

// Encode writes ev as [AppendEvent] encodes it. If ev is invalid, Encode
// returns an error wrapping [ErrInvalidField] and writes nothing. Otherwise
// it returns the writer's error, if any.
func (e *Encoder) Encode(ev Event) error {
	b, err := AppendEvent(e.buf[:0], ev)
	if err != nil {
		return err
	}
	return e.write(b)
}

// Comment writes text as [AppendComment] encodes it, and returns the
// writer's error, if any.
func (e *Encoder) Comment(text string) error {
	return e.write(AppendComment(e.buf[:0], text))
}

// Retry writes a retry line and blank line as [AppendRetry] encodes them,
// and returns the writer's error, if any. Unlike AppendRetry, it rejects a
// negative d with an error wrapping [ErrInvalidField] and writes nothing.
func (e *Encoder) Retry(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("%w: negative retry %v", ErrInvalidField, d)
	}
	return e.write(AppendRetry(e.buf[:0], d))
}

func (e *Encoder) write(b []byte) error {
	_, err := e.w.Write(b)
	if cap(b) <= maxKeptBuffer {
		e.buf = b[:0]
	} else {
		e.buf = nil
	}
	return err
}
