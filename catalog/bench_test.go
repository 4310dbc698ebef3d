package catalog_test

import (
	"context"
	"encoding/json"
	"testing"
)

// BenchmarkValidate measures one publish's validation: schemas are
// compiled at load, so this is a decode plus a walk of the compiled schema
// (plus the sanitizer for events with user-content fields).
func BenchmarkValidate(b *testing.B) {
	c := example(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name, event, data string
	}{
		{"typing", "chat:typing", `{"conversationId":"c1","userId":"u1","isTyping":true}`},
		{"message", "chat:message", goodMessage},
		{"notification_clean", "notification:new", `{"id":"n1","title":"Hello","message":"You have a new message","type":"info"}`},
		{"notification_dirty", "notification:new", `{"id":"n1","title":"<b>Hello</b>","message":"<img src=x onerror=alert(1)>hi","type":"info"}`},
		{"invalid", "chat:message", `{"conversationId":"c1","message":{"id":"m1"}}`},
		{"unknown", "nope", `{}`},
	} {
		data := json.RawMessage(bc.data)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				_, _ = c.Validate(ctx, bc.event, data)
			}
		})
	}
}
