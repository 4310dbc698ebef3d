package natsbroker

import (
	"errors"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/broker/internal/brokerbase"
)

// A message is stored as the data of a stream message: a frame made by
// brokerbase.Encode.

var errBadFrame = errors.New("natsbroker: malformed log message")

// decode parses a frame. The returned Data aliases b.
func decode(b []byte) (broker.Message, error) { return brokerbase.Decode(b, errBadFrame) }
