package ssehub_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssehub/ssehub"
	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/catalog"
	"github.com/ssehub/ssehub/hub"
)

type notification struct {
	Title string `json:"title"`
}

var notificationNew = ssehub.Define[notification]("notification:new")

// TestEmitGoesThroughTheCatalog: ssehub.Emit takes the hub's one publish
// pipeline, so the catalog's schema refuses what it refuses over HTTP and
// its sanitizing cleans what is delivered. (Emit used to call the hub with
// no catalog at all: the markup below went out as is.)
func TestEmitGoesThroughTheCatalog(t *testing.T) {
	cat, err := catalog.Load(strings.NewReader(`
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
		t.Fatal(err)
	}
	mem := broker.NewMemory(broker.MemoryConfig{})
	t.Cleanup(func() { _ = mem.Close() })
	var mu sync.Mutex
	var got []broker.Envelope
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if _, err := mem.Subscribe(ctx, func(env broker.Envelope) {
		mu.Lock()
		got = append(got, env)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	h, err := hub.New(hub.Config{Broker: mem, Schema: cat.Check})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Shutdown(context.Background()) })

	id, err := ssehub.Emit(ctx, h, notificationNew, notification{Title: "<b>Hi</b> <script>x()</script>there"}, ssehub.ToUser("t1", "u1"))
	if err != nil {
		t.Fatalf("Emit: %v", err)
	}
	var se *hub.SchemaError
	var ve *catalog.ValidationError
	_, err = ssehub.Emit(ctx, h, notificationNew, notification{Title: "<script>x()</script>"}, ssehub.ToUser("t1", "u1"))
	if !errors.As(err, &se) || !errors.As(err, &ve) || ve.Path != "/title" {
		t.Errorf("Emit of a title that is empty once sanitized: %v, want a schema error at /title", err)
	}
	_, err = ssehub.Emit(ctx, h, notificationNew, notification{Title: "x"}, ssehub.ToTenant("t1"))
	if !errors.Is(err, catalog.ErrTargetNotAllowed) || !errors.Is(err, hub.ErrSchema) {
		t.Errorf("Emit to a target the catalog does not allow: %v, want ErrTargetNotAllowed", err)
	}
	fence, err := h.Publish(ctx, broker.Message{Event: "notification:new", TenantID: "t1", Data: []byte(`{"title":"fence"}`), Target: broker.Target{Kind: broker.ToUser, UserIDs: []string{"u1"}}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0].ID != id || got[1].ID != fence[0] {
		t.Fatalf("log holds %d events, want the first Emit and the fence only", len(got))
	}
	if d := string(got[0].Data); d != `{"title":"Hi there"}` {
		t.Errorf("delivered data %s, want the sanitized {\"title\":\"Hi there\"}", d)
	}
}
