package sse_test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/ssehub/ssehub/sse"
)

// vectorFile holds the parser vectors taken from peers' public test suites
// (web-platform-tests, rexxars/eventsource-parser, Azure/fetch-event-source,
// EventSource/eventsource), each with its repository, path and commit. The
// TS parser runs the same file (web/packages/client/src/conformance.test.ts).
const vectorFile = "testdata/conformance/vectors.json"

type vector struct {
	Name   string `json:"name"`
	Source struct {
		Repo   string `json:"repo"`
		Path   string `json:"path"`
		Commit string `json:"commit"`
	} `json:"source"`
	Input    *string `json:"input"`
	InputHex string  `json:"inputHex"`
	Events   []struct {
		ID    string `json:"id"`
		Event string `json:"event"`
		Data  string `json:"data"`
	} `json:"events"`
	LastID string `json:"lastId"`
	Retry  *int64 `json:"retry"`
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	raw, err := os.ReadFile(vectorFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("%s: %v", vectorFile, err)
	}
	if len(f.Vectors) == 0 {
		t.Fatalf("%s: no vectors", vectorFile)
	}
	return f.Vectors
}

func (v vector) input(t *testing.T) string {
	if v.Input != nil {
		return *v.Input
	}
	b, err := hex.DecodeString(v.InputHex)
	if err != nil {
		t.Fatalf("%s: inputHex: %v", v.Name, err)
	}
	return string(b)
}

// want is what the vector says a WHATWG parser reports.
func (v vector) want() decoded {
	var w decoded
	for _, e := range v.Events {
		w.Events = append(w.Events, sse.Event{ID: e.ID, Name: e.Event, Data: e.Data})
	}
	w.LastID = v.LastID
	if v.Retry != nil {
		w.Retry = time.Duration(*v.Retry) * time.Millisecond
	}
	return w
}

// TestPeerVectors feeds each vector whole, cut in two at every byte, and
// one byte per Read, and checks the events, the last event ID and the
// reconnection time.
func TestPeerVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			in, want := v.input(t), v.want()
			check := func(how string, r io.Reader) {
				t.Helper()
				got := decodeAll(t, r, nil)
				for i := range got.Events {
					got.Events[i].Retry = 0 // per-event retry is not in the vectors
				}
				if !got.equal(want) {
					t.Fatalf("%s (%s %s@%.8s):\n got %+v\nwant %+v", how, v.Source.Repo, v.Source.Path, v.Source.Commit, got, want)
				}
			}
			check("whole", strings.NewReader(in))
			check("one byte per read", iotest.OneByteReader(strings.NewReader(in)))
			for cut := range len(in) + 1 {
				check(fmt.Sprintf("cut at %d", cut), chunked(in, cut))
			}
		})
	}
}
