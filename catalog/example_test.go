package catalog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ssehub/ssehub/catalog"
)

func ExampleLoad() {
	c, err := catalog.Load(strings.NewReader(`
events:
  notification:new:
    schema:
      type: object
      properties:
        title: {type: string, minLength: 1}
      required: [title]
    sanitize: {title: strict}
    targets: [user]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	data, err := c.Validate(context.Background(), "notification:new", json.RawMessage(`{"title":"<b>Hi</b> <script>x()</script>there"}`))
	fmt.Println(string(data), err)
	_, err = c.Validate(context.Background(), "notification:new", json.RawMessage(`{"title":42}`))
	fmt.Println(err)
	_, err = c.Validate(context.Background(), "notification:nwe", json.RawMessage(`{}`))
	fmt.Println(err)
	// Output:
	// {"title":"Hi there"} <nil>
	// event "notification:new": data at /title: got number, want string
	// catalog: unknown event: "notification:nwe"
}

func ExampleAdd() {
	type ChatTyping struct {
		ConversationID string `json:"conversationId"`
		UserID         string `json:"userId"`
		IsTyping       bool   `json:"isTyping"`
	}
	var c catalog.Catalog
	err := catalog.Add[ChatTyping](&c, "chat:typing",
		catalog.WithRateLimit(1e9, catalog.ModeCoalesce), catalog.WithTargets("channel"))
	fmt.Println(err)
	ev, _ := c.Event("chat:typing")
	fmt.Println(string(ev.Schema))
	// Output:
	// <nil>
	// {"properties":{"conversationId":{"type":"string"},"userId":{"type":"string"},"isTyping":{"type":"boolean"}},"additionalProperties":false,"type":"object","required":["conversationId","userId","isTyping"],"title":"ChatTyping"}
}
