package redisbroker_test

import (
	"context"
	"testing"

	"github.com/ssehub/ssehub/broker/brokertest"
	"github.com/ssehub/ssehub/broker/redisbroker"
)

// The tests that every broker backed by a server passes are in brokertest;
// these run them against Redis.

func TestConformance(t *testing.T) { brokertest.Run(t, engine(t).Factory()) }
func TestBus(t *testing.T)         { brokertest.RunBus(t, engine(t)) }
func TestListenStops(t *testing.T) { brokertest.RunListenStops(t, engine(t)) }
func TestPing(t *testing.T)        { brokertest.RunPing(t, engine(t)) }
func TestReplayLong(t *testing.T)  { brokertest.RunReplayLong(t, engine(t)) }

func TestNewUnreachable(t *testing.T) {
	brokertest.RunNewUnreachable(t, func(ctx context.Context) error {
		_, err := redisbroker.New(ctx, redisbroker.Config{URL: "redis://127.0.0.1:1/0"})
		return err
	})
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg redisbroker.Config
		ok  bool
	}{
		{redisbroker.Config{}, true},
		{redisbroker.Config{URL: "redis://h:1/2", Prefix: "a:b"}, true},
		{redisbroker.Config{URL: "http://x"}, false},
		{redisbroker.Config{Prefix: "a{b}"}, false},
		{redisbroker.Config{HistoryAge: -1}, false},
		{redisbroker.Config{Timeout: -1}, false},
	} {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("Validate(%+v): got %v, want ok=%v", tc.cfg, err, tc.ok)
		}
	}
}
