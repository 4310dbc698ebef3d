package hub

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/ssehub/ssehub/broker"
)

// signedBus authenticates the cluster's control messages: Send seals each
// with an HMAC-SHA256 under the cluster key, over its kind, sender,
// recipient and body; Listen drops every message whose seal does not
// verify (a forgery, or a node without the key or with another one).
type signedBus struct {
	broker.Bus
	key     []byte
	log     *slog.Logger
	dropped atomic.Int64
	lastLog atomic.Int64 // unix nanoseconds of the last warning
}

// sealed is the body of a control message on a keyed bus.
type sealed struct {
	MAC  []byte          `json:"m"`
	Body json.RawMessage `json:"b,omitempty"`
}

func newSignedBus(bus broker.Bus, key []byte, log *slog.Logger) *signedBus {
	return &signedBus{Bus: bus, key: key, log: log}
}

func (s *signedBus) mac(c broker.Control, body []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	for _, part := range [][]byte{[]byte(c.Kind), []byte(c.From), []byte(c.To)} {
		m.Write(part)
		m.Write([]byte{0})
	}
	m.Write(body)
	return m.Sum(nil)
}

func (s *signedBus) Send(ctx context.Context, c broker.Control) error {
	c.Body = mustJSON(sealed{MAC: s.mac(c, c.Body), Body: c.Body})
	return s.Bus.Send(ctx, c)
}

func (s *signedBus) Listen(ctx context.Context, fn func(broker.Control)) (<-chan struct{}, error) {
	return s.Bus.Listen(ctx, func(c broker.Control) {
		var sl sealed
		if json.Unmarshal(c.Body, &sl) != nil || !hmac.Equal(sl.MAC, s.mac(c, sl.Body)) {
			s.refused(c)
			return
		}
		c.Body = sl.Body
		fn(c)
	})
}

// refused counts a dropped message and warns at most every 10 seconds.
func (s *signedBus) refused(c broker.Control) {
	n := s.dropped.Add(1)
	now := time.Now().UnixNano()
	if last := s.lastLog.Load(); now-last > int64(10*time.Second) && s.lastLog.CompareAndSwap(last, now) {
		s.log.Warn("cluster message refused: its seal does not verify under the cluster key (a forgery, or a node with another key or none)",
			"kind", c.Kind, "from", c.From, "refused_total", n)
	}
}
