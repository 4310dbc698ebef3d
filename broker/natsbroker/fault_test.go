package natsbroker_test

import (
	"testing"

	"github.com/ssehub/ssehub/broker/brokertest"
)

// TestReconnect drops the subscriber's connections mid-stream and checks
// that it resumes with no gap and no duplicate.
func TestReconnect(t *testing.T) { brokertest.RunReconnect(t, engine(t)) }

// TestUnavailable checks that Publish, Send and Ping fail fast while NATS
// cannot be reached, and work again once it can.
func TestUnavailable(t *testing.T) { brokertest.RunUnavailable(t, engine(t)) }

// TestNewEpoch deletes the log, as an operator (or a JetStream that lost
// its storage) would, and checks that nodes move to a new epoch.
func TestNewEpoch(t *testing.T) { brokertest.RunNewEpoch(t, engine(t)) }

func TestHistoryAge(t *testing.T)  { brokertest.RunHistoryAge(t, engine(t)) }
func TestHistoryNone(t *testing.T) { brokertest.RunHistoryNone(t, engine(t)) }

// TestCloseStopsGoroutines checks that Close ends every goroutine the
// broker started, with subscriptions and listeners still running.
func TestCloseStopsGoroutines(t *testing.T) { brokertest.RunCloseStopsGoroutines(t, engine(t)) }
