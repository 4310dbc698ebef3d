package sse_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssehub/ssehub/sse"
)

// browserView returns what a browser delivers for e after AppendEvent: Data
// with every line ending as "\n", Name "message" when empty, and ill-formed
// UTF-8 replaced.
func browserView(e sse.Event) sse.Event {
	data := strings.ReplaceAll(e.Data, "\r\n", "\n")
	data = strings.ReplaceAll(data, "\r", "\n")
	name := e.Name
	if name == "" {
		name = "message"
	}
	return sse.Event{ID: refUTF8(e.ID), Name: refUTF8(name), Data: refUTF8(data), Retry: e.Retry.Truncate(time.Millisecond)}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		ev   sse.Event
	}{
		{name: "data only", ev: sse.Event{Data: "hello"}},
		{name: "all fields", ev: sse.Event{ID: "42", Name: "chat:message", Data: benchPayload, Retry: 2500 * time.Millisecond}},
		{name: "empty data", ev: sse.Event{Name: "ping"}},
		{name: "LF", ev: sse.Event{Data: "a\nb\n"}},
		{name: "CRLF normalised", ev: sse.Event{Data: "a\r\nb\r\n"}},
		{name: "CR normalised", ev: sse.Event{Data: "a\rb\r"}},
		{name: "only newlines", ev: sse.Event{Data: "\n\r\n\r\r"}},
		{name: "leading and trailing spaces", ev: sse.Event{ID: "  id ", Name: " n ", Data: "  a \n b"}},
		{name: "colons", ev: sse.Event{ID: ":", Name: ":x:", Data: ": not a comment\n:"}},
		{name: "field-like data", ev: sse.Event{Data: "id: 9\nevent: x\nretry: 1\n\ndata: y"}},
		{name: "unicode", ev: sse.Event{ID: "é", Name: "événement", Data: "😀\u2028\u0085"}},
		{name: "explicit message", ev: sse.Event{Name: "message", Data: "x"}},
		{name: "BOM in data", ev: sse.Event{Data: "\uFEFFx"}},
		{name: "NUL in data", ev: sse.Event{Data: "\x00"}},
		{name: "invalid UTF-8 replaced", ev: sse.Event{ID: "\xFF", Data: "\xE2\x82 \xC0"}},
		{name: "sub-millisecond retry truncated", ev: sse.Event{Data: "x", Retry: 1500 * time.Microsecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := sse.AppendEvent(nil, tc.ev)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			got := decodeAll(t, bytes.NewReader(b), nil)
			want := []sse.Event{browserView(tc.ev)}
			if !slices.Equal(got.Events, want) || got.Err != "" {
				t.Fatalf("got %+v (error %q), want %+v", got.Events, got.Err, want)
			}
		})
	}
}

// An event without an ID still carries the last event ID after decoding:
// the id persists across events, as in browsers.
func TestRoundTripIDPersists(t *testing.T) {
	var b []byte
	for _, e := range []sse.Event{{ID: "1", Data: "a"}, {Data: "b"}, {ID: "2", Data: "c"}} {
		var err error
		if b, err = sse.AppendEvent(b, e); err != nil {
			t.Fatal(err)
		}
	}
	got := decodeAll(t, bytes.NewReader(b), nil)
	var ids []string
	for _, e := range got.Events {
		ids = append(ids, e.ID)
	}
	if want := []string{"1", "1", "2"}; !slices.Equal(ids, want) {
		t.Fatalf("got ids %q, want %q", ids, want)
	}
}

// FuzzRoundTrip checks that AppendEvent either rejects an event for CR, LF
// or NUL in its ID or Name, and only then, or writes bytes that decode to
// the same event as a browser sees it.
func FuzzRoundTrip(f *testing.F) {
	f.Add("", "", "")
	f.Add("1", "chat:message", benchPayload)
	f.Add("id", "name", "a\r\nb\rc\nd")
	f.Add(" ", " ", " ")
	f.Add("1\n", "x", "y")
	f.Add("1", "x\r", "y")
	f.Add("\x00", "", "")
	f.Add("\xEF\xBB\xBF", "\xFF", "\xE2\x82\n\r")
	f.Add("", "", "\n\n\n")
	f.Fuzz(func(t *testing.T, id, name, data string) {
		e := sse.Event{ID: id, Name: name, Data: data}
		b, err := sse.AppendEvent(nil, e)
		if strings.ContainsAny(id, "\r\n\x00") || strings.ContainsAny(name, "\r\n\x00") {
			if !errors.Is(err, sse.ErrInvalidField) {
				t.Fatalf("got error %v, want ErrInvalidField", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		got := decodeAll(t, bytes.NewReader(b), nil)
		want := []sse.Event{browserView(e)}
		if !slices.Equal(got.Events, want) || got.Err != "" {
			t.Fatalf("wire %q: got %+v (error %q), want %+v", b, got.Events, got.Err, want)
		}
	})
}
