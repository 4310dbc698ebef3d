package sse_test

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssehub/ssehub/sse"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/wire")

// benchPayload is a typical ~100-byte JSON payload.
const benchPayload = `{"id":"m_8f14e45f","conversationId":"c_42","userId":"u_1001","text":"hello there","ts":1732876800}`

func TestAppendEvent(t *testing.T) {
	tests := []struct {
		name string
		ev   sse.Event
		want string
	}{
		{name: "data only", ev: sse.Event{Data: "a"}, want: "data: a\n\n"},
		{name: "field order", ev: sse.Event{Data: "x", Retry: 1500 * time.Millisecond, Name: "e", ID: "1"},
			want: "id: 1\nevent: e\nretry: 1500\ndata: x\n\n"},
		{name: "empty data", ev: sse.Event{ID: "1"}, want: "id: 1\ndata:\n\n"},
		{name: "LF", ev: sse.Event{Data: "a\nb"}, want: "data: a\ndata: b\n\n"},
		{name: "CRLF", ev: sse.Event{Data: "a\r\nb"}, want: "data: a\ndata: b\n\n"},
		{name: "CR", ev: sse.Event{Data: "a\rb"}, want: "data: a\ndata: b\n\n"},
		{name: "all three", ev: sse.Event{Data: "a\nb\r\nc\rd"}, want: "data: a\ndata: b\ndata: c\ndata: d\n\n"},
		{name: "only LF", ev: sse.Event{Data: "\n"}, want: "data:\ndata:\n\n"},
		{name: "only CRLF", ev: sse.Event{Data: "\r\n"}, want: "data:\ndata:\n\n"},
		{name: "CR CRLF", ev: sse.Event{Data: "\r\r\n"}, want: "data:\ndata:\ndata:\n\n"},
		{name: "LF CR", ev: sse.Event{Data: "\n\r"}, want: "data:\ndata:\ndata:\n\n"},
		{name: "trailing newline", ev: sse.Event{Data: "a\n"}, want: "data: a\ndata:\n\n"},
		{name: "blank line inside", ev: sse.Event{Data: "a\n\nb"}, want: "data: a\ndata:\ndata: b\n\n"},
		{name: "leading space", ev: sse.Event{Data: " a\n  b"}, want: "data:  a\ndata:   b\n\n"},
		{name: "colons and NUL", ev: sse.Event{Data: "data: x:\x00"}, want: "data: data: x:\x00\n\n"},
		{name: "id and name kept as is", ev: sse.Event{ID: " a:b ", Name: "chat:message", Data: "x"},
			want: "id:  a:b \nevent: chat:message\ndata: x\n\n"},
		{name: "retry truncated", ev: sse.Event{Data: "x", Retry: 1500*time.Millisecond + 999*time.Microsecond},
			want: "retry: 1500\ndata: x\n\n"},
		{name: "sub-millisecond retry", ev: sse.Event{Data: "x", Retry: time.Microsecond}, want: "retry: 0\ndata: x\n\n"},
		{name: "comment ignored", ev: sse.Event{Data: "x", Comment: "c"}, want: "data: x\n\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := sse.AppendEvent([]byte("prev"), tc.ev)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if want := "prev" + tc.want; string(got) != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		})
	}
}

func TestAppendEventInvalid(t *testing.T) {
	tests := []struct {
		name string
		ev   sse.Event
		want string
	}{
		{name: "id CR", ev: sse.Event{ID: "1\r2"}, want: "sse: invalid field: id contains CR"},
		{name: "id LF", ev: sse.Event{ID: "1\n"}, want: "sse: invalid field: id contains LF"},
		{name: "id NUL", ev: sse.Event{ID: "\x001"}, want: "sse: invalid field: id contains NUL"},
		{name: "name CR", ev: sse.Event{Name: "a\rb"}, want: "sse: invalid field: event name contains CR"},
		{name: "name LF", ev: sse.Event{Name: "a\nb"}, want: "sse: invalid field: event name contains LF"},
		{name: "name NUL", ev: sse.Event{Name: "a\x00"}, want: "sse: invalid field: event name contains NUL"},
		{name: "negative retry", ev: sse.Event{Retry: -time.Second}, want: "sse: invalid field: negative retry -1s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("prev")
			got, err := sse.AppendEvent(dst, tc.ev)
			if !errors.Is(err, sse.ErrInvalidField) {
				t.Fatalf("got error %v, want ErrInvalidField", err)
			}
			if err.Error() != tc.want {
				t.Errorf("got message %q, want %q", err, tc.want)
			}
			if string(got) != "prev" {
				t.Errorf("got dst %q, want it unchanged %q", got, "prev")
			}
			var buf bytes.Buffer
			if err := sse.NewEncoder(&buf).Encode(tc.ev); !errors.Is(err, sse.ErrInvalidField) {
				t.Errorf("Encode: got error %v, want ErrInvalidField", err)
			}
			if buf.Len() != 0 {
				t.Errorf("Encode: got %q written, want nothing", buf.String())
			}
		})
	}
}

func TestAppendComment(t *testing.T) {
	tests := []struct{ text, want string }{
		{text: "heartbeat", want: ":heartbeat\n\n"},
		{text: "", want: ":\n\n"},
		{text: " spaced", want: ": spaced\n\n"},
		{text: "a\nb\r\nc\rd", want: ":a\n:b\n:c\n:d\n\n"},
		{text: "a\n", want: ":a\n:\n\n"},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			if got := sse.AppendComment([]byte("prev"), tc.text); string(got) != "prev"+tc.want {
				t.Fatalf("got %q, want %q", got, "prev"+tc.want)
			}
		})
	}
}

func TestAppendRetry(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{d: 3 * time.Second, want: "retry: 3000\n\n"},
		{d: 0, want: "retry: 0\n\n"},
		{d: 1999 * time.Microsecond, want: "retry: 1\n\n"},
		{d: -time.Second, want: "retry: 0\n\n"},
	}
	for _, tc := range tests {
		t.Run(tc.d.String(), func(t *testing.T) {
			if got := sse.AppendRetry([]byte("prev"), tc.d); string(got) != "prev"+tc.want {
				t.Fatalf("got %q, want %q", got, "prev"+tc.want)
			}
		})
	}
}

func TestAppendEventAllocs(t *testing.T) {
	ev := sse.Event{ID: "1732876800000-0", Name: "chat:message", Data: benchPayload + "\n" + benchPayload, Retry: time.Second}
	buf := make([]byte, 0, 1024)
	allocs := testing.AllocsPerRun(100, func() {
		buf, _ = sse.AppendEvent(buf[:0], ev)
		buf = sse.AppendComment(buf, "heartbeat")
		buf = sse.AppendRetry(buf, time.Second)
	})
	if allocs != 0 {
		t.Fatalf("got %v allocations per run, want 0", allocs)
	}
	enc := sse.NewEncoder(io.Discard)
	allocs = testing.AllocsPerRun(100, func() {
		if err := enc.Encode(ev); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Encoder: got %v allocations per run, want 0", allocs)
	}
}

// errWriter fails every write.
type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

func TestEncoder(t *testing.T) {
	t.Run("writes", func(t *testing.T) {
		var buf bytes.Buffer
		enc := sse.NewEncoder(&buf)
		if err := enc.Retry(2 * time.Second); err != nil {
			t.Fatal(err)
		}
		if err := enc.Encode(sse.Event{ID: "1", Name: "e", Data: "x"}); err != nil {
			t.Fatal(err)
		}
		if err := enc.Comment("hb"); err != nil {
			t.Fatal(err)
		}
		// A buffer beyond the kept size must not leak into later writes.
		if err := enc.Encode(sse.Event{Data: strings.Repeat("y", 100<<10)}); err != nil {
			t.Fatal(err)
		}
		if err := enc.Encode(sse.Event{Data: "z"}); err != nil {
			t.Fatal(err)
		}
		want := "retry: 2000\n\nid: 1\nevent: e\ndata: x\n\n:hb\n\ndata: " + strings.Repeat("y", 100<<10) + "\n\ndata: z\n\n"
		if got := buf.String(); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
	t.Run("negative retry", func(t *testing.T) {
		var buf bytes.Buffer
		if err := sse.NewEncoder(&buf).Retry(-1); !errors.Is(err, sse.ErrInvalidField) {
			t.Fatalf("got error %v, want ErrInvalidField", err)
		}
		if buf.Len() != 0 {
			t.Fatalf("got %q written, want nothing", buf.String())
		}
	})
	t.Run("write errors", func(t *testing.T) {
		boom := errors.New("boom")
		enc := sse.NewEncoder(errWriter{boom})
		for name, err := range map[string]error{
			"Encode":  enc.Encode(sse.Event{Data: "x"}),
			"Comment": enc.Comment("x"),
			"Retry":   enc.Retry(time.Second),
		} {
			if !errors.Is(err, boom) {
				t.Errorf("%s: got error %v, want %v", name, err, boom)
			}
		}
	})
	t.Run("nil writer", func(t *testing.T) {
		defer func() {
			if got := recover(); got != "sse: nil writer" {
				t.Fatalf("got panic %v, want %q", got, "sse: nil writer")
			}
		}()
		sse.NewEncoder(nil)
	})
}

// goldenItem is one write to an Encoder: an event, a comment or a retry.
type goldenItem struct {
	ev      *sse.Event
	comment *string
	retry   time.Duration
}

func ev(e sse.Event) goldenItem        { return goldenItem{ev: &e} }
func comment(s string) goldenItem      { return goldenItem{comment: &s} }
func retry(d time.Duration) goldenItem { return goldenItem{retry: d} }

// goldenCases are written to testdata/wire/<name>.golden, and decoded back
// to want.
var goldenCases = []struct {
	name  string
	items []goldenItem
	want  []sse.Event // decoded with Comments set
}{
	{
		name:  "message",
		items: []goldenItem{ev(sse.Event{Data: "hello"})},
		want:  []sse.Event{msg("hello")},
	},
	{
		name:  "full",
		items: []goldenItem{ev(sse.Event{ID: "1732876800000-0", Name: "chat:message", Data: benchPayload, Retry: 5 * time.Second})},
		want:  []sse.Event{{ID: "1732876800000-0", Name: "chat:message", Data: benchPayload, Retry: 5 * time.Second}},
	},
	{
		name: "multiline",
		items: []goldenItem{
			ev(sse.Event{Name: "lf", Data: "one\ntwo\n"}),
			ev(sse.Event{Name: "crlf", Data: "one\r\ntwo\r\n"}),
			ev(sse.Event{Name: "cr", Data: "one\rtwo\r"}),
			ev(sse.Event{Name: "spaces", Data: " one\n\n  two"}),
		},
		want: []sse.Event{
			{Name: "lf", Data: "one\ntwo\n"},
			{Name: "crlf", Data: "one\ntwo\n"},
			{Name: "cr", Data: "one\ntwo\n"},
			{Name: "spaces", Data: " one\n\n  two"},
		},
	},
	{
		name:  "empty-data",
		items: []goldenItem{ev(sse.Event{Name: "ping"}), ev(sse.Event{})},
		want:  []sse.Event{{Name: "ping"}, msg("")},
	},
	{
		name: "stream",
		items: []goldenItem{
			retry(3 * time.Second),
			ev(sse.Event{ID: "1", Name: "sse:ready", Data: `{"connectionId":"c1","heartbeatMs":30000}`}),
			comment("heartbeat"),
			ev(sse.Event{ID: "2", Name: "notification:new", Data: `{"title":"hi"}`}),
			ev(sse.Event{Name: "sse:shutdown", Data: "{}"}),
		},
		want: []sse.Event{
			{ID: "1", Name: "sse:ready", Data: `{"connectionId":"c1","heartbeatMs":30000}`},
			{Comment: "heartbeat"},
			{ID: "2", Name: "notification:new", Data: `{"title":"hi"}`},
			{ID: "2", Name: "sse:shutdown", Data: "{}"},
		},
	},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := sse.NewEncoder(&buf)
			for _, it := range tc.items {
				var err error
				switch {
				case it.ev != nil:
					err = enc.Encode(*it.ev)
				case it.comment != nil:
					err = enc.Comment(*it.comment)
				default:
					err = enc.Retry(it.retry)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join("testdata", "wire", tc.name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got := buf.Bytes(); !bytes.Equal(got, want) {
				t.Fatalf("got %q, want %q (from %s)", got, want, path)
			}
			got := decodeAll(t, bytes.NewReader(want), withComments)
			if !slices.Equal(got.Events, tc.want) || got.Err != "" {
				t.Fatalf("decoded: got %+v (error %q), want %+v", got.Events, got.Err, tc.want)
			}
		})
	}
}

func BenchmarkAppendEvent(b *testing.B) {
	ev := sse.Event{ID: "1732876800000-0", Name: "chat:message", Data: benchPayload}
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(benchPayload)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = sse.AppendEvent(buf[:0], ev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncoder(b *testing.B) {
	ev := sse.Event{ID: "1732876800000-0", Name: "chat:message", Data: benchPayload}
	enc := sse.NewEncoder(io.Discard)
	b.SetBytes(int64(len(benchPayload)))
	b.ReportAllocs()
	for b.Loop() {
		if err := enc.Encode(ev); err != nil {
			b.Fatal(err)
		}
	}
}
