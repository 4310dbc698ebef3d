package redisbroker_test

import (
	"testing"

	"github.com/ssehub/ssehub/broker/brokertest"
)

// BenchmarkPublish measures the latency of one Publish of one message, or
// of a batch, as seen by the publishing node.
func BenchmarkPublish(b *testing.B) { brokertest.BenchPublish(b, engine(b)) }

// BenchmarkEndToEnd measures the time from Publish on one node to delivery
// on another, one message at a time.
func BenchmarkEndToEnd(b *testing.B) { brokertest.BenchEndToEnd(b, engine(b)) }

// BenchmarkReplay measures a Replay of the last n messages.
func BenchmarkReplay(b *testing.B) { brokertest.BenchReplay(b, engine(b)) }
