package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ssehub/ssehub/catalog"
)

type User struct {
	ID   string `json:"id"`
	Name string `json:"name" sanitize:"strict"`
}

type ChatMessage struct {
	ConversationID string `json:"conversationId"`
	Message        struct {
		ID      string    `json:"id"`
		Text    string    `json:"text" sanitize:"ugc" jsonschema:"maxLength=10000"`
		Sender  User      `json:"sender"`
		SentAt  time.Time `json:"sentAt"`
		ReplyTo *string   `json:"replyTo,omitempty"`
	} `json:"message"`
}

type Announcement struct {
	Message string   `json:"message" sanitize:"strict" jsonschema:"minLength=1,description=What to tell everyone."`
	Type    string   `json:"type" jsonschema:"enum=info,enum=warning,enum=critical"`
	Tags    []string `json:"tags,omitempty" sanitize:"strict"`
	Hidden  string   `json:"-"`
	private string
}

func TestAddGoTypes(t *testing.T) {
	var c catalog.Catalog
	if err := catalog.Add[ChatMessage](&c, "chat:message", catalog.WithTargets("user", "channel"), catalog.WithDescription("A new message.")); err != nil {
		t.Fatal(err)
	}
	if err := catalog.Add[Announcement](&c, "system:announcement",
		catalog.WithTargets("broadcast"), catalog.WithRateLimit(time.Second, catalog.ModeDrop)); err != nil {
		t.Fatal(err)
	}
	ev, _ := c.Event("chat:message")
	if got, want := ev.Sanitize, map[string]string{"message.text": "ugc", "message.sender.name": "strict"}; !equalMaps(got, want) {
		t.Errorf("sanitize from tags: got %v, want %v", got, want)
	}
	ann, _ := c.Event("system:announcement")
	if got, want := ann.Sanitize, map[string]string{"message": "strict", "tags.*": "strict"}; !equalMaps(got, want) {
		t.Errorf("sanitize from tags: got %v, want %v", got, want)
	}
	if !strings.Contains(string(ann.Schema), `"title":"Announcement"`) || !strings.Contains(string(ann.Schema), `"enum":["info","warning","critical"]`) {
		t.Errorf("schema: got %s", ann.Schema)
	}

	msg := `{"conversationId":"c1","message":{"id":"m1","text":"<b>hi</b><script>x</script>","sender":{"id":"u1","name":"<i>Ann</i>"},"sentAt":"2026-01-02T03:04:05Z"}}`
	got, err := c.Validate(context.Background(), "chat:message", json.RawMessage(msg))
	if err != nil {
		t.Fatal(err)
	}
	var back ChatMessage
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if back.Message.Text != "<b>hi</b>" || back.Message.Sender.Name != "Ann" {
		t.Errorf("sanitized: got %+v", back.Message)
	}
	// A payload Go would not produce: the Go-derived schema refuses it.
	_, err = c.Validate(context.Background(), "chat:message", json.RawMessage(`{"conversationId":"c1","message":{"id":"m1","text":"x","sender":{"id":"u1"},"sentAt":"2026-01-02T03:04:05Z"}}`))
	var ve *catalog.ValidationError
	if !errors.As(err, &ve) || ve.Path != "/message/sender" {
		t.Errorf("got %v, want a *ValidationError at /message/sender", err)
	}
	// encoding/json output of the Go type always validates.
	var m ChatMessage
	m.ConversationID, m.Message.ID, m.Message.Text, m.Message.Sender = "c", "m", "t", User{"u", "n"}
	data, _ := json.Marshal(m)
	if _, err := c.Validate(context.Background(), "chat:message", data); err != nil {
		t.Errorf("json.Marshal of the Go type: %v", err)
	}

	// The shared definition User is in the document once.
	doc, err := c.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Defs map[string]json.RawMessage `json:"$defs"`
	}
	if err := json.Unmarshal(doc, &parsed); err != nil {
		t.Fatal(err)
	}
	if _, ok := parsed.Defs["User"]; !ok || len(parsed.Defs) != 3 {
		t.Errorf("got $defs %v, want User, chat:message and system:announcement", keys(parsed.Defs))
	}
}

func TestAddGoTypeConflicts(t *testing.T) {
	var c catalog.Catalog
	catalog.MustAdd[ChatMessage](&c, "chat:message")
	if err := catalog.Add[ChatMessage](&c, "chat:message"); err == nil || !strings.Contains(err.Error(), "defined twice") {
		t.Errorf("same event twice: got %v", err)
	}
	// Another type named User with another shape.
	type Wrapper struct {
		U struct {
			Other int `json:"other"`
		} `json:"u"`
	}
	if err := c.AddDef("User", json.RawMessage(`{"type":"string"}`)); err == nil {
		t.Error("conflicting def: got no error")
	}
	if err := catalog.Add[Wrapper](&c, "w", catalog.WithSanitize("u", "html")); err == nil {
		t.Error("bad sanitize policy: got no error")
	}
	defer func() {
		if recover() == nil {
			t.Error("MustAdd with a bad name: got no panic")
		}
	}()
	catalog.MustAdd[User](&c, "sse:nope")
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
