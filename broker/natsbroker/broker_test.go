package natsbroker_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/broker/brokertest"
	"github.com/ssehub/ssehub/broker/natsbroker"
)

// The tests that every broker backed by a server passes are in brokertest;
// these run them against NATS JetStream.

func TestConformance(t *testing.T) { brokertest.Run(t, engine(t).Factory()) }
func TestBus(t *testing.T)         { brokertest.RunBus(t, engine(t)) }
func TestListenStops(t *testing.T) { brokertest.RunListenStops(t, engine(t)) }
func TestPing(t *testing.T)        { brokertest.RunPing(t, engine(t)) }
func TestReplayLong(t *testing.T)  { brokertest.RunReplayLong(t, engine(t)) }

func TestNewUnreachable(t *testing.T) {
	brokertest.RunNewUnreachable(t, func(ctx context.Context) error {
		_, err := natsbroker.New(ctx, natsbroker.Config{URL: "nats://127.0.0.1:1"})
		return err
	})
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg natsbroker.Config
		ok  bool
	}{
		{natsbroker.Config{}, true},
		{natsbroker.Config{URL: "nats://h:1", Stream: "A_B-c"}, true},
		{natsbroker.Config{Stream: "a.b"}, false},
		{natsbroker.Config{Replicas: 7}, false},
		{natsbroker.Config{HistoryAge: -1}, false},
		{natsbroker.Config{Timeout: -1}, false},
		{natsbroker.Config{HistoryBytes: -1}, false},
	} {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("Validate(%+v): got %v, want ok=%v", tc.cfg, err, tc.ok)
		}
	}
}

// TestHistoryBytes creates the stream with HistoryBytes as its MaxBytes:
// after 300 KiB of messages in a stream bounded to 64 KiB, JetStream keeps
// under 64 KiB, the newest, and Replay from before them answers
// ErrTooOld.
func TestHistoryBytes(t *testing.T) {
	u := natsURL(t)
	stream := uniqueStream(t, u)
	ctx := t.Context()
	b, err := natsbroker.New(ctx, natsbroker.Config{URL: u, Stream: stream, HistoryBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	data := []byte(`"` + strings.Repeat("x", 1<<10) + `"`)
	var first, last string
	for i := range 300 {
		ids, err := b.Publish(ctx, broker.Message{Event: "e", TenantID: "t", Data: data, Target: broker.Target{Kind: broker.ToTenant}})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = ids[0]
		}
		last = ids[0]
	}
	js, err := adminJS(t, u)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.MaxBytes != 64<<10 || info.State.Bytes > 64<<10 || info.State.LastSeq != info.State.FirstSeq+info.State.Msgs-1 || info.State.Msgs >= 64 {
		t.Fatalf("stream: max_bytes %d, state %+v; want max_bytes 65536 and under 64 KiB kept", info.Config.MaxBytes, info.State)
	}
	if err := b.Replay(ctx, first, func(broker.Envelope) error { return nil }); !errors.Is(err, broker.ErrTooOld) {
		t.Fatalf("replay after the first of 300 KiB: got %v, want ErrTooOld", err)
	}
	if err := b.Replay(ctx, last, func(broker.Envelope) error { return nil }); err != nil {
		t.Fatalf("replay after the last: %v", err)
	}
}
