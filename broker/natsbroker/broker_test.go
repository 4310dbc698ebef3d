package natsbroker_test

import (
	"context"
	"testing"

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
	} {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("Validate(%+v): got %v, want ok=%v", tc.cfg, err, tc.ok)
		}
	}
}
