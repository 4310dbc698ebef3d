package ssehub_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ssehub/ssehub"
	"github.com/ssehub/ssehub/hub"
)

// ChatMessage is the payload of the chat:message event.
type ChatMessage struct {
	ConversationID string `json:"conversationId"`
	Text           string `json:"text"`
}

// Events are declared once, with their payload type.
var ChatMessageEvent = ssehub.Define[ChatMessage]("chat:message")

// stream collects what the hub writes to one connection.
type stream struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *stream) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}
func (s *stream) Flush() error                     { return nil }
func (s *stream) SetWriteDeadline(time.Time) error { return nil }
func (s *stream) String() string                   { s.mu.Lock(); defer s.mu.Unlock(); return s.buf.String() }

func ExampleEmit() {
	ctx := context.Background()
	h, _ := hub.New(hub.Config{})
	defer h.Shutdown(ctx)

	// A connection of user u1 in tenant t1, subscribed to a conversation.
	conn, _ := h.Connect(hub.ConnInfo{TenantID: "t1", UserID: "u1", Channels: []string{"conversation:42"}})
	out := &stream{}
	go conn.Serve(ctx, out)

	// The payload's type is checked at compile time:
	// ssehub.Emit(ctx, h, ChatMessageEvent, "hi", …) does not compile.
	_, err := ssehub.Emit(ctx, h, ChatMessageEvent,
		ChatMessage{ConversationID: "42", Text: "hello"},
		ssehub.ToChannel("t1", "conversation:42"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for !strings.Contains(out.String(), "chat:message") {
		time.Sleep(time.Millisecond)
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "event: chat") || strings.HasPrefix(line, "data: {\"conv") {
			fmt.Println(line)
		}
	}
	// Output:
	// event: chat:message
	// data: {"conversationId":"42","text":"hello"}
}
