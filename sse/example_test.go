package sse_test

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ssehub/ssehub/sse"
)

func ExampleEncoder() {
	enc := sse.NewEncoder(os.Stdout) // in a handler: the http.ResponseWriter, flushed after each write
	if err := enc.Retry(3 * time.Second); err != nil {
		panic(err)
	}
	if err := enc.Encode(sse.Event{ID: "42", Name: "chat:message", Data: `{"text":"hi"}`}); err != nil {
		panic(err)
	}
	if err := enc.Encode(sse.Event{Data: "two\nlines"}); err != nil {
		panic(err)
	}
	if err := enc.Comment("heartbeat"); err != nil {
		panic(err)
	}
	err := enc.Encode(sse.Event{Name: "bad\nname"})
	fmt.Println(err)
	// Output:
	// retry: 3000
	//
	// id: 42
	// event: chat:message
	// data: {"text":"hi"}
	//
	// data: two
	// data: lines
	//
	// :heartbeat
	//
	// sse: invalid field: event name contains LF
}

func ExampleDecoder() {
	stream := "retry: 3000\n\n" +
		"id: 42\nevent: chat:message\ndata: {\"text\":\"hi\"}\n\n" +
		":heartbeat\n\n" +
		"data: two\r\ndata: lines\r\n\r\n" +
		"data: incomplete, never dispatched\n"
	dec := sse.NewDecoder(strings.NewReader(stream))
	for ev, err := range dec.Events() {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Printf("id=%q name=%q data=%q\n", ev.ID, ev.Name, ev.Data)
	}
	fmt.Println("last event id:", dec.LastEventID(), "retry:", dec.Retry())
	// Output:
	// id="42" name="chat:message" data="{\"text\":\"hi\"}"
	// id="42" name="message" data="two\nlines"
	// last event id: 42 retry: 3s
}

func ExampleDecoder_comments() {
	dec := sse.NewDecoder(strings.NewReader(":heartbeat\n\ndata: x\n\n"))
	dec.Comments = true
	for ev, err := range dec.Events() {
		if err != nil {
			panic(err)
		}
		if ev.Name == "" {
			fmt.Printf("comment %q\n", ev.Comment)
			continue
		}
		fmt.Printf("event %q %q\n", ev.Name, ev.Data)
	}
	// Output:
	// comment "heartbeat"
	// event "message" "x"
}

func ExampleAppendEvent() {
	var buf []byte // reused across events: no allocation once it is large enough
	for i, data := range []string{`{"n":1}`, ""} {
		buf = buf[:0]
		var err error
		buf, err = sse.AppendEvent(buf, sse.Event{ID: fmt.Sprint(i + 1), Name: "tick", Data: data})
		if err != nil {
			panic(err)
		}
		fmt.Print(string(buf))
	}
	// Output:
	// id: 1
	// event: tick
	// data: {"n":1}
	//
	// id: 2
	// event: tick
	// data:
}
