package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ssehub/ssehub/catalog"
)

func example(t testing.TB) *catalog.Catalog {
	t.Helper()
	c, err := catalog.LoadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const goodMessage = `{"conversationId":"c1","message":{"id":"m1","text":"hello","sender":{"id":"u1","name":"Ann"},"sentAt":"2026-01-02T03:04:05Z"}}`

func TestValidateAccepts(t *testing.T) {
	c := example(t)
	for _, tc := range []struct{ event, data string }{
		{"chat:message", goodMessage},
		{"chat:typing", `{"conversationId":"c1","userId":"u1","isTyping":true}`},
		{"presence:update", `{"userId":"u1","status":"away","lastSeen":null}`},
		{"presence:update", `{"userId":"u1","status":"offline","lastSeen":"2026-01-02T03:04:05+01:00"}`},
		{"notification:new", `{"id":"n1","title":"Hi","action":{"kind":"link","url":"/inbox"},"from":null}`},
		{"notification:new", `{"id":"n1","title":"Hi","action":{"kind":"dismiss"},"from":{"id":"u2","name":"Bob","avatarUrl":null}}`},
		{"data:update", `{"entity":"invoice","action":"create","id":"inv1","data":{"total":12.5,"lines":[]}}`},
		{"data:update", `{"entity":"invoice","action":"delete","id":42}`},
		{"system:announcement", `{"message":"Maintenance at 22:00","type":"warning"}`},
		{"invoice:created", `{"invoiceId":"i1","number":"INV-7","status":"created","customer":{"id":"c","name":"ACME"},"total":{"amount":1250,"currency":"EUR"},"lines":[{"description":"x","quantity":1,"unitPrice":{"amount":1250,"currency":"EUR"}}],"metadata":{"po":"42"}}`},
	} {
		got, err := c.Validate(context.Background(), tc.event, json.RawMessage(tc.data))
		if err != nil {
			t.Errorf("%s %s: got %v, want nil", tc.event, tc.data, err)
			continue
		}
		if string(got) != tc.data {
			t.Errorf("%s: got %s, want the data unchanged", tc.event, got)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	c := example(t)
	for _, tc := range []struct {
		event, data, path, reason string
	}{
		{"chat:message", `{"conversationId":"c1"}`, "", "missing property 'message'"},
		{"chat:message", `{"conversationId":"c1","message":{"id":"m1","text":"x","sender":{"id":"u1"},"sentAt":"2026-01-02T03:04:05Z"}}`, "/message/sender", "missing property 'name'"},
		{"chat:message", `{"conversationId":"c1","message":{"id":"m1","text":5,"sender":{"id":"u1","name":"A"},"sentAt":"2026-01-02T03:04:05Z"}}`, "/message/text", "got number, want string"},
		{"chat:message", `{"conversationId":"c1","message":{"id":"m1","text":"x","sender":{"id":"u1","name":"A"},"sentAt":"yesterday"}}`, "/message/sentAt", "'yesterday' is not valid date-time"},
		{"chat:message", `{"conversationId":"","message":{"id":"m1","text":"x","sender":{"id":"u1","name":"A"},"sentAt":"2026-01-02T03:04:05Z"}}`, "/conversationId", "minLength"},
		{"chat:message", strings.Replace(goodMessage, `"conversationId":"c1"`, `"conversationId":"c1","extra":1`, 1), "", "additional properties 'extra' not allowed"},
		{"chat:typing", `{"conversationId":"c1","userId":"u1","isTyping":"yes"}`, "/isTyping", "got string, want boolean"},
		{"presence:update", `{"userId":"u1","status":"sleeping"}`, "/status", "value must be one of"},
		{"invoice:created", `{"invoiceId":"i1","number":"7","status":"created","customer":{"id":"c","name":"A"},"total":{"amount":1,"currency":"EUR"},"lines":[{"description":"x","quantity":1,"unitPrice":{"amount":1,"currency":"EUR"}}]}`, "/number", "does not match pattern"},
		{"invoice:created", `{"invoiceId":"i1","number":"INV-7","status":"created","customer":{"id":"c","name":"A"},"total":{"amount":1,"currency":"EUR"},"lines":[{"description":"x","quantity":0,"unitPrice":{"amount":1,"currency":"eur"}}]}`, "/lines/0/unitPrice/currency", "does not match pattern"},
		{"data:update", `{"entity":"invoice","action":"create","id":1.5}`, "/id", ""},
		{"data:update", `[]`, "", "got array, want object"},
		{"data:update", `{"entity":"invoice","action":"create","id":"x"} {}`, "", "not valid JSON"},
		{"data:update", `{"entity":`, "", "not valid JSON"},
	} {
		_, err := c.Validate(context.Background(), tc.event, json.RawMessage(tc.data))
		var ve *catalog.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s %s: got %v, want a *ValidationError", tc.event, tc.data, err)
			continue
		}
		if ve.Event != tc.event || ve.Path != tc.path || !strings.Contains(ve.Reason, tc.reason) {
			t.Errorf("%s %s: got %q at %q, want %q at %q", tc.event, tc.data, ve.Reason, ve.Path, tc.reason, tc.path)
		}
		if !strings.Contains(err.Error(), tc.event) {
			t.Errorf("got %q, want the event name in the message", err)
		}
	}
}

func TestValidateUnknown(t *testing.T) {
	c := example(t)
	_, err := c.Validate(context.Background(), "chat:mesage", json.RawMessage(`{}`))
	if !errors.Is(err, catalog.ErrUnknownEvent) || !strings.Contains(err.Error(), `"chat:mesage"`) {
		t.Errorf("got %v, want ErrUnknownEvent naming the event", err)
	}
	c.AllowUnknown = true
	data := json.RawMessage(`{"anything":[1,2,3]}`)
	got, err := c.Validate(context.Background(), "chat:mesage", data)
	if err != nil || string(got) != string(data) {
		t.Errorf("AllowUnknown: got %s, %v, want the data unchanged", got, err)
	}
	var zero catalog.Catalog
	if _, err := zero.Validate(context.Background(), "a", data); !errors.Is(err, catalog.ErrUnknownEvent) {
		t.Errorf("zero catalog: got %v, want ErrUnknownEvent", err)
	}
}

func TestTargets(t *testing.T) {
	c := example(t)
	for _, tc := range []struct {
		event, kind string
		ok          bool
	}{
		{"system:announcement", "broadcast", true},
		{"system:announcement", "user", false},
		{"system:announcement", "tenant", false},
		{"chat:typing", "channel", true},
		{"chat:typing", "broadcast", false},
		{"presence:update", "broadcast", true}, // no targets list: all kinds
		{"presence:update", "nonsense", true},
		{"chat:message", "nonsense", false},
	} {
		err := c.CheckTarget(tc.event, tc.kind)
		if (err == nil) != tc.ok {
			t.Errorf("CheckTarget(%s, %s): got %v, want ok=%v", tc.event, tc.kind, err, tc.ok)
		}
		if err != nil && !errors.Is(err, catalog.ErrTargetNotAllowed) {
			t.Errorf("got %v, want ErrTargetNotAllowed", err)
		}
		ctx := catalog.WithTarget(context.Background(), tc.kind)
		_, verr := c.Validate(ctx, tc.event, json.RawMessage(`{}`))
		if !tc.ok && !errors.Is(verr, catalog.ErrTargetNotAllowed) {
			t.Errorf("Validate with target %s: got %v, want ErrTargetNotAllowed", tc.kind, verr)
		}
	}
	if err := c.CheckTarget("nope", "user"); !errors.Is(err, catalog.ErrUnknownEvent) {
		t.Errorf("unknown event: got %v, want ErrUnknownEvent", err)
	}
	if k, ok := catalog.TargetFromContext(context.Background()); ok {
		t.Errorf("got %q from an empty context", k)
	}
}

// TestConcurrentValidate runs Validate from many goroutines (go test -race).
func TestConcurrentValidate(t *testing.T) {
	c := example(t)
	done := make(chan error)
	for range 8 {
		go func() {
			var err error
			for range 50 {
				if _, err = c.Validate(context.Background(), "notification:new", json.RawMessage(`{"id":"n","title":"<b>x</b>","message":"<img src=x onerror=alert(1)>"}`)); err != nil {
					break
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
