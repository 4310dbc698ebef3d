package main

import (
	"bytes"
	"errors"
	"fmt"
)

// This file is the client side of one SSE response, kept cheap so that the
// server is what a run measures: it reads the HTTP/1.1 response head,
// removes the chunked transfer coding, splits SSE lines and checks each
// event as it goes. Nothing is allocated per event; a partial line is copied
// only when a read or a chunk ends inside it.

// Lines longer than this (and response heads) end the stream with an error.
const maxLine = 1 << 20

var (
	errStreamEnd = errors.New("stream ended by the server")
	errHeadSize  = errors.New("response head over 16 KiB")
	errLineSize  = errors.New("line over 1 MiB")
)

type streamState uint8

const (
	stConnecting streamState = iota // TCP connect in progress
	stHead                          // request sent, reading the response head
	stBody                          // reading events
	stDone                          // closed
)

type chunkState uint8

const (
	ckSize chunkState = iota // reading a chunk-size line
	ckData                   // inside a chunk's data
	ckCRLF                   // reading the CRLF after a chunk's data
)

// sink receives what every stream of one event loop decodes.
type sink struct {
	now      int64 // unix nanos of the read being decoded
	received int64 // events received (not control events)
	record   func(latencyNanos int64)
}

// stream decodes one response. Its zero value expects a response head.
type stream struct {
	group int32 // which publish group the connection belongs to
	st    streamState

	chunked   bool
	ck        chunkState
	chunkLeft int
	crlfLeft  int
	head      []byte // response head while incomplete
	sizeLine  []byte // chunk-size line while incomplete
	line      []byte // SSE line while incomplete

	// The event being read.
	evData    bool
	evControl bool
	evHasID   bool
	evIDBad   bool
	evID      uint64
	evT       int64
	evS       int64
	evWarm    bool

	// Results.
	count      int64  // events received, duplicates included
	lastS      int64  // highest payload sequence number seen
	lastID     uint64 // last event id, parsed
	missing    int64  // sequence numbers skipped
	dupes      int64  // events whose sequence number was not above the last one
	idErrors   int64  // ids that did not increase or did not parse
	badPayload int64  // events without a {"t","s"} payload
}

// readHead consumes the response head from b. It returns the bytes after
// the head and whether the head is complete; an error means the server
// refused the stream.
func (s *stream) readHead(b []byte) (rest []byte, done bool, err error) {
	h := b
	if len(s.head) > 0 {
		s.head = append(s.head, b...)
		h = s.head
	}
	end := bytes.Index(h, []byte("\r\n\r\n"))
	if end < 0 {
		if len(h) > 16<<10 {
			return nil, false, errHeadSize
		}
		if len(s.head) == 0 {
			s.head = append(s.head, b...)
		}
		return nil, false, nil
	}
	head, body := h[:end+2], h[end+4:]
	status, fields, _ := bytes.Cut(head, []byte("\r\n"))
	if !bytes.HasPrefix(status, []byte("HTTP/1.")) || len(status) < 12 || string(status[9:12]) != "200" {
		return nil, false, fmt.Errorf("status %q: %.200s", status, body)
	}
	for len(fields) > 0 {
		var f []byte
		f, fields, _ = bytes.Cut(fields, []byte("\r\n"))
		k, v, _ := bytes.Cut(f, []byte(":"))
		if bytes.EqualFold(bytes.TrimSpace(k), []byte("Transfer-Encoding")) &&
			bytes.Contains(bytes.ToLower(v), []byte("chunked")) {
			s.chunked = true
		}
	}
	if len(s.head) > 0 {
		// body aliases s.head: hand back a copy and free the head.
		body = append([]byte(nil), body...)
		s.head = nil
	}
	s.st = stBody
	return body, true, nil
}

// readBody consumes body bytes. errStreamEnd means the server ended the
// response; any other error is a protocol error.
func (s *stream) readBody(b []byte, k *sink) error {
	if !s.chunked {
		return s.readLines(b, k)
	}
	for len(b) > 0 {
		switch s.ck {
		case ckSize:
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				s.sizeLine = append(s.sizeLine, b...)
				if len(s.sizeLine) > 1024 {
					return errors.New("chunk-size line too long")
				}
				return nil
			}
			ln := b[:i]
			b = b[i+1:]
			if len(s.sizeLine) > 0 {
				s.sizeLine = append(s.sizeLine, ln...)
				ln = s.sizeLine
			}
			n, err := parseChunkSize(ln)
			s.sizeLine = s.sizeLine[:0]
			if err != nil {
				return err
			}
			if n == 0 {
				return errStreamEnd
			}
			s.chunkLeft, s.ck = n, ckData
		case ckData:
			n := min(s.chunkLeft, len(b))
			if err := s.readLines(b[:n], k); err != nil {
				return err
			}
			b = b[n:]
			if s.chunkLeft -= n; s.chunkLeft == 0 {
				s.ck, s.crlfLeft = ckCRLF, 2
			}
		case ckCRLF:
			for s.crlfLeft > 0 && len(b) > 0 {
				want := byte('\n')
				if s.crlfLeft == 2 {
					want = '\r'
				}
				if b[0] != want {
					return fmt.Errorf("chunk not followed by CRLF: %q", b[0])
				}
				b = b[1:]
				s.crlfLeft--
			}
			if s.crlfLeft == 0 {
				s.ck = ckSize
			}
		}
	}
	return nil
}

func parseChunkSize(ln []byte) (int, error) {
	ln = bytes.TrimSuffix(ln, []byte("\r"))
	if i := bytes.IndexByte(ln, ';'); i >= 0 {
		ln = ln[:i]
	}
	ln = bytes.TrimSpace(ln)
	if len(ln) == 0 || len(ln) > 8 {
		return 0, fmt.Errorf("bad chunk size %q", ln)
	}
	n := 0
	for _, c := range ln {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, fmt.Errorf("bad chunk size %q", ln)
		}
		n = n<<4 | int(d)
	}
	return n, nil
}

// readLines splits b into SSE lines. Lines end with LF or CRLF; a lone CR
// is not treated as a line end (no server under test sends one).
func (s *stream) readLines(b []byte, k *sink) error {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			s.line = append(s.line, b...)
			if len(s.line) > maxLine {
				return errLineSize
			}
			return nil
		}
		ln := b[:i]
		b = b[i+1:]
		if len(s.line) > 0 {
			s.line = append(s.line, ln...)
			ln = s.line
		}
		s.readLine(bytes.TrimSuffix(ln, []byte("\r")), k)
		s.line = s.line[:0]
	}
	return nil
}

var (
	patT = []byte(`"t":`)
	patS = []byte(`"s":`)
	patW = []byte(`{"w":1,`)
)

func (s *stream) readLine(ln []byte, k *sink) {
	if len(ln) == 0 {
		s.dispatch(k)
		return
	}
	if ln[0] == ':' {
		return // a comment, such as a heartbeat
	}
	field, value, _ := bytes.Cut(ln, []byte(":"))
	value = bytes.TrimPrefix(value, []byte(" "))
	switch string(field) {
	case "data":
		if !s.evData { // the payload is one line; later lines are ignored
			s.evData = true
			s.evT = intAfter(value, patT)
			s.evS = intAfter(value, patS)
			s.evWarm = bytes.HasPrefix(value, patW)
		}
	case "event":
		s.evControl = bytes.HasPrefix(value, []byte("sse:"))
	case "id":
		s.evHasID = true
		s.evID, s.evIDBad = parseID(value)
	}
}

// dispatch checks the event just completed by a blank line.
func (s *stream) dispatch(k *sink) {
	if s.evData && !s.evControl {
		s.count++
		k.received++
		if s.evT > 0 && !s.evWarm && k.record != nil {
			k.record(k.now - s.evT)
		}
		switch {
		case s.evS <= 0:
			s.badPayload++
		case s.evS == s.lastS+1:
			s.lastS = s.evS
		case s.evS > s.lastS:
			s.missing += s.evS - s.lastS - 1
			s.lastS = s.evS
		default:
			s.dupes++
		}
		if s.evHasID {
			if s.evIDBad || s.count > 1 && s.evID <= s.lastID {
				s.idErrors++
			}
			s.lastID = s.evID
		}
	}
	s.evData, s.evControl, s.evHasID, s.evIDBad, s.evWarm = false, false, false, false, false
	s.evID, s.evT, s.evS = 0, 0, 0
}

// intAfter parses the non-negative integer that follows pat in b, or
// returns -1.
func intAfter(b, pat []byte) int64 {
	i := bytes.Index(b, pat)
	if i < 0 {
		return -1
	}
	b = b[i+len(pat):]
	var n int64
	digits := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
		digits++
	}
	if digits == 0 || digits > 19 || n < 0 {
		return -1
	}
	return n
}

// parseID reads the part of an event id after its last '-' as a base-36
// number: ssehub's ids are "<epoch>-<seq in base 36>", and the bench
// peers' decimal ids read the same way in the same order. bad reports an
// id that is not of that form.
func parseID(v []byte) (id uint64, bad bool) {
	if i := bytes.LastIndexByte(v, '-'); i >= 0 {
		v = v[i+1:]
	}
	if len(v) == 0 || len(v) > 12 {
		return 0, true
	}
	for _, c := range v {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'z':
			d = c - 'a' + 10
		default:
			return 0, true
		}
		id = id*36 + uint64(d)
	}
	return id, false
}
