package sse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"time"
)

// ErrTooLarge reports a line or an event's data that exceeds a [Decoder]'s
// limit. The Decoder wraps it with detail; test for it with [errors.Is].
var ErrTooLarge = errors.New("sse: too large")

// defaultMaxSize is the Decoder's line and event limit when its field is zero.
const defaultMaxSize = 1 << 20

// A Decoder reads events from a text/event-stream following the WHATWG HTML
// "event stream interpretation" rules, so it sees what a browser's
// EventSource sees:
//
//   - the stream is decoded as UTF-8, each ill-formed sequence becoming
//     U+FFFD, and one leading byte order mark is skipped;
//   - lines end with "\r\n", "\n" or "\r", wherever the reads split them;
//   - a line starting with ":" is a comment; a line without a colon is a
//     field name with an empty value; otherwise one space after the first
//     colon is stripped from the value;
//   - "event" sets the event type, "data" appends its value and "\n" to the
//     data, "id" sets the last event ID buffer unless the value contains
//     NUL, "retry" sets the reconnection time at once if the value is one
//     or more ASCII digits (an empty value is ignored); other fields are
//     ignored;
//   - a blank line makes the id buffer the last event ID and, if the data
//     is not empty, dispatches the event (without the data's final "\n",
//     named "message" if it has no type); then the data and type are reset;
//   - at the end of the stream, an event not yet ended by a blank line (and
//     any unterminated last line) is discarded.
//
// A Decoder holds at most one line and one event's data in memory, bounded
// by MaxLineSize and MaxEventSize, so an untrusted stream cannot make it grow
// without bound. Set the exported fields before the first call to
// [Decoder.Next] or [Decoder.Events].
//
// A Decoder is not safe for concurrent use. It does not close its reader.
type Decoder struct {
	// Comments makes Next also return comment lines, each as an Event
	// whose Comment is the text after the colon (see [Event]). False, the
	// zero value, skips them as browsers do.
	Comments bool
	// MaxLineSize caps the length of one line in bytes, not counting its
	// line ending. Zero means 1 MiB.
	MaxLineSize int
	// MaxEventSize caps one event's data in bytes: the sum of its data
	// values plus one byte per data line. Zero means 1 MiB.
	MaxEventSize int

	r          *bufio.Reader
	err        error // sticky: returned by every call once set
	bomChecked bool  // the start of the stream has been checked for a BOM
	skipLF     bool  // the last line ended with CR: skip an LF that follows

	line       []byte        // a line that spans buffer refills
	data       []byte        // data buffer
	typ        []byte        // event type buffer
	idBuf      string        // last event ID buffer
	lastID     string        // last event ID, set at each blank line
	retry      time.Duration // reconnection time, from any valid retry line
	blockRetry time.Duration // retry set since the last blank line
	name       string        // last dispatched non-default Name, reused
}

// NewDecoder returns a Decoder that reads from r through its own buffer
// (or through r itself if r is a large enough [*bufio.Reader]). It panics
// if r is nil.
func NewDecoder(r io.Reader) *Decoder {
	if r == nil {
		panic("sse: nil reader")
	}
	return &Decoder{r: bufio.NewReader(r)}
}

// Next reads up to and returns the next dispatched event, or the next
// comment line when Comments is set. It returns [io.EOF] when the stream
// ends, whether or not an event was left incomplete (browsers discard such
// an event too); a read error from the underlying reader as it is; and an
// error wrapping [ErrTooLarge] when a limit is exceeded. After Next returns
// an error, every later call returns the same error.
func (d *Decoder) Next() (Event, error) {
	if d.err != nil {
		return Event{}, d.err
	}
	for {
		line, err := d.readLine()
		if err == nil {
			var ev Event
			var ok bool
			ev, ok, err = d.interpret(line)
			if ok {
				return ev, nil
			}
		}
		if err != nil {
			d.err = err
			return Event{}, err
		}
	}
}

// Events returns an iterator over the events Next returns, for use as
//
//	for ev, err := range dec.Events() {
//		if err != nil {
//			return err
//		}
//		…
//	}
//
// It stops silently at [io.EOF], and after yielding any other error once.
// Breaking out of the loop leaves the Decoder usable.
func (d *Decoder) Events() iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		for {
			ev, err := d.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(Event{}, err)
				return
			}
			if !yield(ev, nil) {
				return
			}
		}
	}
}

// Retry returns the reconnection time from the last valid retry line read
// so far, wherever it appeared, or 0 if there was none. Browsers apply a
// retry line as soon as they read it, even if its block never dispatches.
// A "retry: 0" line also gives 0. Values beyond the range of
// [time.Duration] saturate at its maximum.
func (d *Decoder) Retry() time.Duration { return d.retry }

// LastEventID returns the last event ID as a browser would send it in a
// Last-Event-ID header on reconnection: the id buffer as of the last blank
// line read, or "" if none has been set.
func (d *Decoder) LastEventID() string { return d.lastID }

// SetLastEventID sets the last event ID, and the id buffer, to id, as if
// the stream had begun with the line "id: "+id and a blank line. A client
// that reconnects calls it on the new stream's Decoder with the id it
// resumed from: in a browser's EventSource the last event ID outlives the
// connection, so events of the new stream without an id field carry it.
// Call it before the first [Decoder.Next].
func (d *Decoder) SetLastEventID(id string) { d.idBuf, d.lastID = id, id }

// interpret processes one line. It returns an Event and true when the line
// dispatches an event or is a comment to report.
func (d *Decoder) interpret(line []byte) (Event, bool, error) {
	if len(line) == 0 {
		ev, ok := d.dispatch()
		return ev, ok, nil
	}
	if line[0] == ':' {
		if d.Comments {
			return Event{Comment: decodeUTF8(line[1:])}, true, nil
		}
		return Event{}, false, nil
	}
	field, value := line, line[len(line):]
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		field, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(field) {
	case "event":
		d.typ = append(d.typ[:0], value...)
	case "data":
		if limit := sizeOr(d.MaxEventSize); len(d.data)+len(value)+1 > limit {
			return Event{}, false, fmt.Errorf("%w: event data exceeds %d bytes", ErrTooLarge, limit)
		}
		d.data = append(d.data, value...)
		d.data = append(d.data, '\n')
	case "id":
		// string(value) != d.idBuf does not allocate. decodeUTF8 output is
		// valid UTF-8, so equal bytes mean an unchanged id.
		if bytes.IndexByte(value, 0) < 0 && string(value) != d.idBuf {
			d.idBuf = decodeUTF8(value)
		}
	case "retry":
		if r, ok := parseRetry(value); ok {
			d.retry, d.blockRetry = r, r
		}
	}
	return Event{}, false, nil
}

// dispatch runs the blank-line step and reports whether it produced an event.
func (d *Decoder) dispatch() (Event, bool) {
	d.lastID = d.idBuf
	retry := d.blockRetry
	d.blockRetry = 0
	if len(d.data) == 0 {
		d.typ = d.typ[:0]
		return Event{}, false
	}
	ev := Event{
		ID:    d.lastID,
		Name:  "message",
		Data:  decodeUTF8(d.data[:len(d.data)-1]),
		Retry: retry,
	}
	if len(d.typ) > 0 {
		if string(d.typ) != d.name {
			d.name = decodeUTF8(d.typ)
		}
		ev.Name = d.name
	}
	d.data = d.data[:0]
	d.typ = d.typ[:0]
	return ev, true
}

// parseRetry parses a retry value, which counts only if it is a non-empty
// string of ASCII digits giving milliseconds.
func parseRetry(v []byte) (time.Duration, bool) {
	if len(v) == 0 {
		return 0, false
	}
	const maxMS = math.MaxInt64 / int64(time.Millisecond)
	var ms int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		if ms <= maxMS {
			ms = ms*10 + int64(c-'0')
		}
	}
	if ms > maxMS {
		return math.MaxInt64, true
	}
	return time.Duration(ms) * time.Millisecond, true
}

// readLine returns the next line without its line ending. The line is valid
// until the next call. An unterminated line at the end of the stream is
// dropped and io.EOF returned.
func (d *Decoder) readLine() ([]byte, error) {
	if !d.bomChecked {
		if err := d.skipBOM(); err != nil {
			return nil, err
		}
	}
	if d.skipLF {
		// Checked lazily so a line ending in CR is returned without waiting
		// for the next byte.
		b, err := d.r.Peek(1)
		if err != nil {
			return nil, err
		}
		d.skipLF = false
		if b[0] == '\n' {
			d.r.Discard(1)
		}
	}
	limit := sizeOr(d.MaxLineSize)
	d.line = d.line[:0]
	for {
		if _, err := d.r.Peek(1); err != nil {
			return nil, err
		}
		buf, _ := d.r.Peek(d.r.Buffered())
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			i = bytes.IndexByte(buf, '\r')
		} else if cr := bytes.IndexByte(buf[:i], '\r'); cr >= 0 {
			i = cr
		}
		if i < 0 {
			if len(d.line)+len(buf) > limit {
				return nil, fmt.Errorf("%w: line exceeds %d bytes", ErrTooLarge, limit)
			}
			d.line = append(d.line, buf...)
			d.r.Discard(len(buf))
			continue
		}
		if len(d.line)+i > limit {
			return nil, fmt.Errorf("%w: line exceeds %d bytes", ErrTooLarge, limit)
		}
		line := buf[:i]
		if len(d.line) > 0 {
			d.line = append(d.line, line...)
			line = d.line
		}
		n := i + 1
		if buf[i] == '\r' {
			switch {
			case n == len(buf):
				d.skipLF = true
			case buf[n] == '\n':
				n++
			}
		}
		// Discard leaves the buffer's bytes in place, so line stays valid.
		d.r.Discard(n)
		return line, nil
	}
}

// skipBOM discards one UTF-8 byte order mark at the start of the stream. It
// peeks one byte at a time so that it never waits for bytes it does not need.
func (d *Decoder) skipBOM() error {
	const bom = "\xEF\xBB\xBF"
	for n := 1; n <= len(bom); n++ {
		b, err := d.r.Peek(n)
		if err != nil {
			return err
		}
		if b[n-1] != bom[n-1] {
			d.bomChecked = true
			return nil
		}
	}
	d.r.Discard(len(bom))
	d.bomChecked = true
	return nil
}

// sizeOr returns n, or defaultMaxSize if n is not positive.
func sizeOr(n int) int {
	if n <= 0 {
		return defaultMaxSize
	}
	return n
}
