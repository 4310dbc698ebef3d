package redisbroker

import (
	"errors"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/broker/internal/brokerbase"
)

// A message is stored in the stream entry's field m as a frame made by
// brokerbase.Encode.

var errBadFrame = errors.New("redisbroker: malformed log entry")

// decode parses a frame. The returned Data aliases b.
func decode(b []byte) (broker.Message, error) { return brokerbase.Decode(b, errBadFrame) }
