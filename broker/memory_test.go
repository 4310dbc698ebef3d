package broker_test

import (
	"testing"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/broker/brokertest"
)

func TestMemoryConformance(t *testing.T) {
	brokertest.Run(t, func(t *testing.T, o brokertest.Options) []broker.Broker {
		m := broker.NewMemory(broker.MemoryConfig{HistorySize: o.HistorySize})
		t.Cleanup(func() { _ = m.Close() })
		// One in-process log: every "node" shares the same broker.
		bs := make([]broker.Broker, o.Nodes)
		for i := range bs {
			bs[i] = m
		}
		return bs
	})
}
