package natsbroker_test

import (
	"context"
	"fmt"
	"time"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/broker/natsbroker"
)

// Two nodes share one log: what one publishes, the other delivers, and a
// client that reconnects can be replayed what it missed. (It needs a NATS
// server with JetStream on localhost, so it is compiled but not run by go
// test.)
func Example() {
	ctx := context.Background()
	cfg := natsbroker.Config{URL: "nats://127.0.0.1:4222", Stream: "SSEHUB_EXAMPLE", HistoryAge: time.Minute}
	node1, err := natsbroker.New(ctx, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer node1.Close()
	node2, err := natsbroker.New(ctx, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer node2.Close()

	got := make(chan broker.Envelope, 1)
	if _, err := node2.Subscribe(ctx, func(env broker.Envelope) { got <- env }); err != nil {
		fmt.Println(err)
		return
	}
	ids, err := node1.Publish(ctx, broker.Message{
		Event: "chat:message", TenantID: "t1", Data: []byte(`{"text":"hi"}`),
		Target: broker.Target{Kind: broker.ToChannel, Channel: "conversation:1"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	env := <-got
	fmt.Println(env.Event, string(env.Data), env.ID == ids[0])

	// A client whose Last-Event-ID is an earlier id gets what followed it.
	err = node2.Replay(ctx, ids[0], func(env broker.Envelope) error {
		fmt.Println("missed:", env.ID)
		return nil
	})
	fmt.Println(err)
}
