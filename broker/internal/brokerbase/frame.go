package brokerbase

import (
	"encoding/binary"
	"encoding/json"

	"github.com/ssehub/ssehub/broker"
)

// A message is stored as one frame: a version byte, the uvarint length of
// a JSON header (everything but Data), the header, then Data byte for byte,
// so that payloads are neither escaped nor base64-encoded.

const frameVersion = 1

type header struct {
	Event       string        `json:"e"`
	TenantID    string        `json:"t,omitempty"`
	Target      broker.Target `json:"g"`
	ExcludeConn string        `json:"x,omitempty"`
}

// Encode returns m as a frame. IdempotencyKey does not travel.
func Encode(m broker.Message) ([]byte, error) {
	h, err := json.Marshal(header{Event: m.Event, TenantID: m.TenantID, Target: m.Target, ExcludeConn: m.ExcludeConn})
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 1+binary.MaxVarintLen32+len(h)+len(m.Data))
	b = append(b, frameVersion)
	b = binary.AppendUvarint(b, uint64(len(h)))
	b = append(b, h...)
	return append(b, m.Data...), nil
}

// Decode parses a frame made by Encode, and returns bad when b is not one,
// so that each engine names its own log's entries. The returned Data
// aliases b.
func Decode(b []byte, bad error) (broker.Message, error) {
	if len(b) == 0 || b[0] != frameVersion {
		return broker.Message{}, bad
	}
	n, k := binary.Uvarint(b[1:])
	if k <= 0 || n > uint64(len(b)-1-k) {
		return broker.Message{}, bad
	}
	b = b[1+k:]
	var h header
	if err := json.Unmarshal(b[:n], &h); err != nil {
		return broker.Message{}, bad
	}
	m := broker.Message{Event: h.Event, TenantID: h.TenantID, Target: h.Target, ExcludeConn: h.ExcludeConn}
	if rest := b[n:]; len(rest) > 0 {
		m.Data = rest // b is the caller's to give away
	}
	return m, nil
}
