package sse_test

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/ssehub/ssehub/sse"
)

func msg(data string) sse.Event { return sse.Event{Name: "message", Data: data} }

// decodeCases follow the WHATWG "event stream interpretation" rules one by
// one. Each runs whole, one byte per Read, and cut into two Reads at every
// offset.
var decodeCases = []struct {
	name     string
	in       string
	comments bool
	want     []sse.Event
}{
	{name: "simple", in: "data: hello\n\n", want: []sse.Event{msg("hello")}},
	{name: "two events", in: "data: a\n\ndata: b\n\n", want: []sse.Event{msg("a"), msg("b")}},
	{name: "empty stream", in: ""},

	// UTF-8 and the byte order mark.
	{name: "BOM stripped", in: "\uFEFFdata: a\n\n", want: []sse.Event{msg("a")}},
	{name: "second BOM is part of the field name", in: "\uFEFF\uFEFFdata: a\n\ndata: b\n\n", want: []sse.Event{msg("b")}},
	{name: "BOM after the start is kept", in: "data: a\n\n\uFEFFdata: b\n\ndata: \uFEFFc\n\n", want: []sse.Event{msg("a"), msg("\uFEFFc")}},
	{name: "partial BOM is data", in: "\xEF\xBBdata: a\n\ndata: b\n\n", want: []sse.Event{msg("b")}},
	{name: "valid UTF-8 kept", in: "data: café ✓ 😀\n\n", want: []sse.Event{msg("café ✓ 😀")}},
	{name: "invalid byte replaced", in: "data: a\xFFb\n\n", want: []sse.Event{msg("a\uFFFDb")}},
	{name: "truncated sequence is one U+FFFD", in: "data: \xE2\x82A\n\n", want: []sse.Event{msg("\uFFFDA")}},
	{name: "truncated at line end", in: "data: \xF0\x9F\x98\ndata: \xE2\n\n", want: []sse.Event{msg("\uFFFD\n\uFFFD")}},
	{name: "overlong is one U+FFFD per byte", in: "data: \xC0\x80\xE0\x80\x80\n\n", want: []sse.Event{msg(strings.Repeat("\uFFFD", 5))}},
	{name: "surrogate is one U+FFFD per byte", in: "data: \xED\xA0\x80\n\n", want: []sse.Event{msg("\uFFFD\uFFFD\uFFFD")}},
	{name: "above U+10FFFF", in: "data: \xF4\x90\x80\x80\n\n", want: []sse.Event{msg(strings.Repeat("\uFFFD", 4))}},
	{name: "invalid UTF-8 in name and id", in: "id: \xFF1\nevent: \xE2\x82x\ndata: a\n\n",
		want: []sse.Event{{ID: "\uFFFD1", Name: "\uFFFDx", Data: "a"}}},
	{name: "NUL in data kept", in: "data: a\x00b\n\n", want: []sse.Event{msg("a\x00b")}},

	// Line endings.
	{name: "CRLF", in: "data: a\r\ndata: b\r\n\r\n", want: []sse.Event{msg("a\nb")}},
	{name: "CR", in: "data: a\rdata: b\r\r", want: []sse.Event{msg("a\nb")}},
	{name: "mixed", in: "data: a\rdata: b\ndata: c\r\n\rdata: d\n\r\n", want: []sse.Event{msg("a\nb\nc"), msg("d")}},
	{name: "LF CR is two line ends", in: "data: a\n\rdata: b\n\n", want: []sse.Event{msg("a"), msg("b")}},
	{name: "CR CR LF is two line ends", in: "data: a\r\r\ndata: b\n\n", want: []sse.Event{msg("a"), msg("b")}},

	// Lines and fields.
	{name: "no colon is a field with empty value", in: "data\n\n", want: []sse.Event{msg("")}},
	{name: "no colon twice", in: "data\ndata\n\n", want: []sse.Event{msg("\n")}},
	{name: "no colon event field", in: "event: x\nevent\ndata: a\n\n", want: []sse.Event{msg("a")}},
	{name: "only one space stripped", in: "data:  two\n\n", want: []sse.Event{msg(" two")}},
	{name: "no space", in: "data:a\n\n", want: []sse.Event{msg("a")}},
	{name: "tab not stripped", in: "data:\ta\n\n", want: []sse.Event{msg("\ta")}},
	{name: "trailing space kept", in: "data: a \n\n", want: []sse.Event{msg("a ")}},
	{name: "split at first colon", in: "data: a: b:c\n\n", want: []sse.Event{msg("a: b:c")}},
	{name: "field names are case-sensitive", in: "Data: a\n\ndata: b\n\n", want: []sse.Event{msg("b")}},
	{name: "space before colon", in: "data : a\n\ndata: b\n\n", want: []sse.Event{msg("b")}},
	{name: "unknown field ignored", in: "foo: bar\ndata: a\n\n", want: []sse.Event{msg("a")}},

	// event.
	{name: "event type", in: "event: add\ndata: a\n\n", want: []sse.Event{{Name: "add", Data: "a"}}},
	{name: "explicit message", in: "event: message\ndata: a\n\n", want: []sse.Event{msg("a")}},
	{name: "empty event type is message", in: "event:\ndata: a\n\n", want: []sse.Event{msg("a")}},
	{name: "last event line wins", in: "event: a\nevent: b\ndata: x\n\n", want: []sse.Event{{Name: "b", Data: "x"}}},
	{name: "event type reset after dispatch", in: "event: add\ndata: a\n\ndata: b\n\n",
		want: []sse.Event{{Name: "add", Data: "a"}, msg("b")}},
	{name: "event type reset without dispatch", in: "event: add\n\ndata: b\n\n", want: []sse.Event{msg("b")}},
	{name: "same type reused", in: "event: t\ndata: a\n\nevent: t\ndata: b\n\n",
		want: []sse.Event{{Name: "t", Data: "a"}, {Name: "t", Data: "b"}}},

	// data and dispatch.
	{name: "empty data line dispatches empty data", in: "data:\n\n", want: []sse.Event{msg("")}},
	{name: "empty data value with space", in: "data: \n\n", want: []sse.Event{msg("")}},
	{name: "no data no dispatch", in: "event: x\n\nid: 1\n\nretry: 5\n\n\n\n", want: nil},
	{name: "one trailing LF stripped", in: "data: a\ndata:\n\n", want: []sse.Event{msg("a\n")}},
	{name: "data lines joined", in: "data: a\ndata: b\ndata: c\n\n", want: []sse.Event{msg("a\nb\nc")}},
	{name: "blank lines between events", in: "\n\ndata: a\n\n\n\ndata: b\n\n", want: []sse.Event{msg("a"), msg("b")}},

	// id.
	{name: "id", in: "id: 1\ndata: a\n\n", want: []sse.Event{{ID: "1", Name: "message", Data: "a"}}},
	{name: "id persists", in: "id: 1\ndata: a\n\ndata: b\n\n",
		want: []sse.Event{{ID: "1", Name: "message", Data: "a"}, {ID: "1", Name: "message", Data: "b"}}},
	{name: "id set by a block without data", in: "id: 7\n\ndata: a\n\n", want: []sse.Event{{ID: "7", Name: "message", Data: "a"}}},
	{name: "empty id resets", in: "id: 1\ndata: a\n\nid\ndata: b\n\n",
		want: []sse.Event{{ID: "1", Name: "message", Data: "a"}, msg("b")}},
	{name: "id with NUL ignored", in: "id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n",
		want: []sse.Event{{ID: "1", Name: "message", Data: "a"}, {ID: "1", Name: "message", Data: "b"}}},
	{name: "id after data in same block", in: "data: a\nid: 9\n\n", want: []sse.Event{{ID: "9", Name: "message", Data: "a"}}},
	{name: "id keeps spaces", in: "id:  x y \ndata: a\n\n", want: []sse.Event{{ID: " x y ", Name: "message", Data: "a"}}},

	// retry.
	{name: "retry on its event", in: "retry: 1500\ndata: a\n\ndata: b\n\n",
		want: []sse.Event{{Name: "message", Data: "a", Retry: 1500 * time.Millisecond}, msg("b")}},
	{name: "retry in its own block", in: "retry: 1500\n\ndata: a\n\n", want: []sse.Event{msg("a")}},
	{name: "invalid retry ignored", in: "retry: 1a\nretry:  1\nretry:\nretry: -1\nretry: 1.5\nretry: ١\nretry: 0x1\ndata: a\n\n",
		want: []sse.Event{msg("a")}},
	{name: "last valid retry wins", in: "retry: 1\nretry: 2\nretry: x\ndata: a\n\n",
		want: []sse.Event{{Name: "message", Data: "a", Retry: 2 * time.Millisecond}}},

	// Comments.
	{name: "comments skipped", in: ":heartbeat\n\n: x\ndata: a\n:\n\n", want: []sse.Event{msg("a")}},
	{name: "comments reported", in: ":heartbeat\n\n: x\ndata: a\n:\ndata: b\n\n", comments: true,
		want: []sse.Event{{Comment: "heartbeat"}, {Comment: " x"}, {Comment: ""}, msg("a\nb")}},
	{name: "comment keeps colons", in: "::a: b\r\n", comments: true, want: []sse.Event{{Comment: ":a: b"}}},

	// End of stream.
	{name: "EOF discards incomplete event", in: "data: a\n\ndata: b\n", want: []sse.Event{msg("a")}},
	{name: "EOF discards unterminated line", in: "data: a\n\ndata: b", want: []sse.Event{msg("a")}},
	{name: "EOF after CR line end", in: "data: a\r", want: nil},
	{name: "EOF discards unterminated comment", in: ":hb", comments: true, want: nil},
}

func TestDecoder(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			setup := func(d *sse.Decoder) { d.Comments = tc.comments }
			got := decodeAll(t, strings.NewReader(tc.in), setup)
			if got.Err != "" {
				t.Fatalf("got error %s, want io.EOF", got.Err)
			}
			if !slices.Equal(got.Events, tc.want) {
				t.Fatalf("got %+v, want %+v", got.Events, tc.want)
			}
			if ref := refDecode(tc.in, tc.comments); !ref.equal(got) {
				t.Errorf("reference decoder: got %+v, want %+v", ref, got)
			}
			if split := decodeAll(t, iotest.OneByteReader(strings.NewReader(tc.in)), setup); !split.equal(got) {
				t.Errorf("one byte per read: got %+v, want %+v", split, got)
			}
			for cut := range len(tc.in) + 1 {
				if split := decodeAll(t, chunked(tc.in, cut), setup); !split.equal(got) {
					t.Errorf("cut at %d: got %+v, want %+v", cut, split, got)
				}
			}
		})
	}
}

func TestDecoderCRLFAcrossReads(t *testing.T) {
	r := &partsReader{parts: []string{"data: a\r", "\ndata: b\r", "\n\r", "\n", "\r", "\ndata: c\r", "\r"}}
	got := decodeAll(t, r, nil)
	want := []sse.Event{msg("a\nb"), msg("c")}
	if !slices.Equal(got.Events, want) {
		t.Fatalf("got %+v, want %+v", got.Events, want)
	}
}

// errNoMore stands for a live stream that has nothing more to send yet.
var errNoMore = errors.New("no more input yet")

// A live stream must deliver each event as soon as its blank line arrives,
// without reading further (a CR line end does not wait for a possible LF, a
// short first line does not wait for a whole BOM).
func TestDecoderDoesNotReadAhead(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want sse.Event
	}{
		{name: "LF", in: "data: a\n\n", want: msg("a")},
		{name: "CR", in: "data: a\r\r", want: msg("a")},
		{name: "CRLF", in: "data: a\r\n\r\n", want: msg("a")},
		{name: "short first line", in: "\n\rdata: a\n\n", want: msg("a")},
		{name: "comment", in: ":\r", want: sse.Event{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dec := sse.NewDecoder(&partsReader{parts: []string{tc.in}, err: errNoMore})
			dec.Comments = true
			got, err := dec.Next()
			if err != nil {
				t.Fatalf("got error %v, want event %+v", err, tc.want)
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			if _, err := dec.Next(); !errors.Is(err, errNoMore) {
				t.Fatalf("second Next: got error %v, want %v", err, errNoMore)
			}
		})
	}
}

func TestDecoderLastEventID(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "none", in: "data: a\n\n", want: ""},
		{name: "from event", in: "id: 1\ndata: a\n\n", want: "1"},
		{name: "from block without data", in: "id: 1\ndata: a\n\nid: 2\n\n", want: "2"},
		{name: "not before the blank line", in: "id: 1\ndata: a\n\nid: 2\ndata: b\n", want: "1"},
		{name: "NUL ignored", in: "id: 1\n\nid: \x00\n\n", want: "1"},
		{name: "reset by empty id", in: "id: 1\n\nid:\n\n", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := decodeAll(t, strings.NewReader(tc.in), nil).LastID; got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDecoderRetry(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{in: "", want: 0},
		{in: "retry: 3000\n", want: 3 * time.Second},
		{in: "retry:3000\n", want: 3 * time.Second},
		{in: "retry: 0\n", want: 0},
		{in: "retry: 007\n", want: 7 * time.Millisecond},
		{in: "retry: 5\nretry: 1a\n", want: 5 * time.Millisecond},
		{in: "retry: 5\nretry:  1\n", want: 5 * time.Millisecond},
		{in: "retry: 5\nretry:\n", want: 5 * time.Millisecond},
		{in: "retry: 5\nretry\n", want: 5 * time.Millisecond},
		{in: "retry: 5\nretry: +1\n", want: 5 * time.Millisecond},
		{in: "retry: 5\nretry: 1 \n", want: 5 * time.Millisecond},
		{in: "retry: 5\nretry: 1", want: 5 * time.Millisecond}, // unterminated line
		{in: "retry: 9223372036854\n", want: 9223372036854 * time.Millisecond},
		{in: "retry: 9223372036855\n", want: math.MaxInt64},
		{in: "retry: 99999999999999999999999999\n", want: math.MaxInt64},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q", tc.in), func(t *testing.T) {
			if got := decodeAll(t, strings.NewReader(tc.in), nil).Retry; got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDecoderLimits(t *testing.T) {
	long := strings.Repeat("x", 5000) // longer than the bufio buffer
	tests := []struct {
		name      string
		in        string
		line, evt int
		want      []sse.Event
		tooLarge  bool
	}{
		{name: "line at limit", in: "data: 12\n\n", line: 8, want: []sse.Event{msg("12")}},
		{name: "line over limit", in: "data: a\n\ndata: 123\n\n", line: 8, want: []sse.Event{msg("a")}, tooLarge: true},
		{name: "comment over limit", in: ":123456789\n", line: 8, tooLarge: true},
		{name: "unterminated line over limit", in: "data: 123", line: 8, tooLarge: true},
		{name: "long line over limit", in: "data: " + long + "\n\n", line: 5000, tooLarge: true},
		{name: "long line at limit", in: "data: " + long[6:] + "\n\n", line: 5000, want: []sse.Event{msg(long[6:])}},
		{name: "event at limit", in: "data: a\ndata: b\n\n", evt: 4, want: []sse.Event{msg("a\nb")}},
		{name: "event over limit", in: "data: a\n\ndata: ab\ndata: c\n\n", evt: 4, want: []sse.Event{msg("a")}, tooLarge: true},
		{name: "empty lines count", in: "data\ndata\ndata\n\n", evt: 2, tooLarge: true},
		{name: "limit resets per event", in: "data: ab\n\ndata: cd\n\n", evt: 3, want: []sse.Event{msg("ab"), msg("cd")}},
		{name: "default line limit", in: "data: " + strings.Repeat("x", 1<<20) + "\n\n", tooLarge: true},
		{name: "default event limit", in: strings.Repeat("data: "+strings.Repeat("x", 1<<16)+"\n", 16) + "\n", tooLarge: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dec := sse.NewDecoder(strings.NewReader(tc.in))
			dec.Comments = true
			dec.MaxLineSize, dec.MaxEventSize = tc.line, tc.evt
			var got []sse.Event
			var err error
			for {
				var ev sse.Event
				if ev, err = dec.Next(); err != nil {
					break
				}
				got = append(got, ev)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if gotTL := errors.Is(err, sse.ErrTooLarge); gotTL != tc.tooLarge {
				t.Fatalf("got error %v, want ErrTooLarge %v", err, tc.tooLarge)
			}
			if _, again := dec.Next(); again != err {
				t.Errorf("Next after error: got %v, want the same %v", again, err)
			}
		})
	}
}

func TestDecoderReadError(t *testing.T) {
	boom := errors.New("boom")
	dec := sse.NewDecoder(&partsReader{parts: []string{"data: a\n\ndata: b\n"}, err: boom})
	if ev, err := dec.Next(); err != nil || ev != msg("a") {
		t.Fatalf("got %+v, %v, want %+v, nil", ev, err, msg("a"))
	}
	for range 2 {
		if _, err := dec.Next(); !errors.Is(err, boom) {
			t.Fatalf("got error %v, want %v", err, boom)
		}
	}
}

func TestDecoderEvents(t *testing.T) {
	t.Run("all", func(t *testing.T) {
		dec := sse.NewDecoder(strings.NewReader("data: a\n\ndata: b\n\ndata: c\n"))
		var got []sse.Event
		for ev, err := range dec.Events() {
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			got = append(got, ev)
		}
		if want := []sse.Event{msg("a"), msg("b")}; !slices.Equal(got, want) {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	})
	t.Run("break leaves the decoder usable", func(t *testing.T) {
		dec := sse.NewDecoder(strings.NewReader("data: a\n\ndata: b\n\n"))
		for range dec.Events() {
			break
		}
		if ev, err := dec.Next(); err != nil || ev != msg("b") {
			t.Fatalf("got %+v, %v, want %+v, nil", ev, err, msg("b"))
		}
	})
	t.Run("error yielded once", func(t *testing.T) {
		boom := errors.New("boom")
		dec := sse.NewDecoder(&partsReader{parts: []string{"data: a\n\n"}, err: boom})
		var errs []error
		n := 0
		for _, err := range dec.Events() {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			n++
		}
		if n != 1 || len(errs) != 1 || !errors.Is(errs[0], boom) {
			t.Fatalf("got %d events and errors %v, want 1 event and [%v]", n, errs, boom)
		}
	})
}

func TestNewDecoderNil(t *testing.T) {
	defer func() {
		if got := recover(); got != "sse: nil reader" {
			t.Fatalf("got panic %v, want %q", got, "sse: nil reader")
		}
	}()
	sse.NewDecoder(nil)
}

// FuzzDecode checks the Decoder against refDecode, and that cutting the input
// into two reads at any point, or into one-byte reads, changes nothing.
func FuzzDecode(f *testing.F) {
	for _, tc := range decodeCases {
		f.Add(tc.in, uint(len(tc.in)/2))
	}
	f.Add("data: a\r\n\r\n", uint(8))
	f.Add("\xEF\xBB\xBFdata: a\r\r", uint(1))
	f.Add("id: 1\nevent: e\nretry: 10\ndata: {}\n\n:hb\n\n", uint(30))
	f.Fuzz(func(t *testing.T, in string, cut uint) {
		cutAt := int(cut % uint(len(in)+1))
		whole := decodeAll(t, strings.NewReader(in), withComments)
		if whole.Err != "" {
			t.Fatalf("got error %s, want io.EOF", whole.Err)
		}
		if ref := refDecode(in, true); !whole.equal(ref) {
			t.Fatalf("got %+v, want %+v (reference)", whole, ref)
		}
		if split := decodeAll(t, chunked(in, cutAt), withComments); !split.equal(whole) {
			t.Fatalf("cut %d: got %+v, want %+v", cutAt, split, whole)
		}
		if split := decodeAll(t, iotest.OneByteReader(strings.NewReader(in)), withComments); !split.equal(whole) {
			t.Fatalf("one byte per read: got %+v, want %+v", split, whole)
		}
		noComments := decodeAll(t, strings.NewReader(in), nil)
		want := whole
		want.Events = slices.DeleteFunc(slices.Clone(whole.Events), func(ev sse.Event) bool { return ev.Name == "" })
		if !noComments.equal(want) {
			t.Fatalf("without comments: got %+v, want %+v", noComments, want)
		}

		// Tiny limits: the same everywhere, and a prefix of the unlimited
		// result up to the error.
		tiny := func(d *sse.Decoder) { d.Comments, d.MaxLineSize, d.MaxEventSize = true, 7, 9 }
		limited := decodeAll(t, strings.NewReader(in), tiny)
		if split := decodeAll(t, chunked(in, cutAt), tiny); !split.equal(limited) {
			t.Fatalf("limited, cut %d: got %+v, want %+v", cutAt, split, limited)
		}
		if split := decodeAll(t, iotest.OneByteReader(strings.NewReader(in)), tiny); !split.equal(limited) {
			t.Fatalf("limited, one byte per read: got %+v, want %+v", split, limited)
		}
		if limited.Err == "" && !limited.equal(whole) {
			t.Fatalf("limited without error: got %+v, want %+v", limited, whole)
		}
		if len(limited.Events) > len(whole.Events) || !slices.Equal(limited.Events, whole.Events[:len(limited.Events)]) {
			t.Fatalf("limited: got %+v, want a prefix of %+v", limited.Events, whole.Events)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	var sb strings.Builder
	for i := range 100 {
		fmt.Fprintf(&sb, "id: %d\nevent: chat:message\ndata: %s\n\n", i, benchPayload)
		if i%10 == 0 {
			sb.WriteString(":heartbeat\n\n")
		}
	}
	stream := sb.String()
	r := strings.NewReader(stream)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(stream)
		dec := sse.NewDecoder(r)
		n := 0
		for _, err := range dec.Events() {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 100 {
			b.Fatalf("got %d events, want 100", n)
		}
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	event := "id: 12345\nevent: chat:message\ndata: " + benchPayload + "\n\n"
	r := &repeatReader{s: event}
	dec := sse.NewDecoder(r)
	b.SetBytes(int64(len(event)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dec.Next(); err != nil {
			b.Fatal(err)
		}
	}
}

// repeatReader returns s over and over.
type repeatReader struct {
	s   string
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.s[r.off:])
		n += c
		r.off = (r.off + c) % len(r.s)
	}
	return n, nil
}

var _ io.Reader = (*repeatReader)(nil)

// TestSetLastEventID: a Decoder seeded with the id a client resumed from
// reports it for events without an id field, until an id field changes it.
func TestSetLastEventID(t *testing.T) {
	dec := sse.NewDecoder(strings.NewReader("data: a\n\nid\ndata: b\n\nid: 9\n\n"))
	dec.SetLastEventID("7")
	if got := dec.LastEventID(); got != "7" {
		t.Errorf("LastEventID() before Next = %q, want 7", got)
	}
	var ids []string
	for ev, err := range dec.Events() {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	if want := []string{"7", ""}; !slices.Equal(ids, want) {
		t.Errorf("ids: got %q, want %q", ids, want)
	}
	if got := dec.LastEventID(); got != "9" {
		t.Errorf("LastEventID() at the end = %q, want 9", got)
	}
}
