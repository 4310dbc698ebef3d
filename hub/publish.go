package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/ssehub/ssehub/broker"
)

// Publish validates msgs and appends them to the broker's log as one unit,
// returning their ids in order. Delivery to the connections happens
// asynchronously: Publish never waits for a client. When any message is
// invalid nothing is published and the error is a *ValidationError (or
// wraps ErrTooLarge). After Shutdown it fails with ErrClosed.
func (h *Hub) Publish(ctx context.Context, msgs ...broker.Message) ([]string, error) {
	if err := h.errIfClosed(); err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		return []string{}, nil
	}
	for i := range msgs {
		if err := h.Validate(&msgs[i]); err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				ve.Index = i
			}
			return nil, err
		}
	}
	ids, err := h.broker.Publish(ctx, msgs...)
	if err != nil {
		return nil, err
	}
	h.stats.published.Add(uint64(len(msgs)))
	return ids, nil
}

// Validate checks one message and normalises its target (duplicate user
// ids are removed). It is what Publish runs on each message; the HTTP layer
// calls it first to report errors precisely.
func (h *Hub) Validate(m *broker.Message) error {
	bad := func(field string, err error) error { return &ValidationError{Field: field, Err: err} }
	if err := ValidateEventName(m.Event); err != nil {
		return bad("event", err)
	}
	if len(m.Data) > h.cfg.MaxPayload {
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(m.Data), h.cfg.MaxPayload)
	}
	if len(m.Data) == 0 || !json.Valid(m.Data) {
		return bad("data", errors.New("not valid JSON"))
	}
	t := &m.Target
	if t.Kind == broker.ToBroadcast {
		if m.TenantID != "" {
			if err := ValidateTenant(m.TenantID); err != nil {
				return bad("tenantId", err)
			}
		}
	} else if err := ValidateTenant(m.TenantID); err != nil {
		return bad("tenantId", err)
	}
	switch t.Kind {
	case broker.ToUser:
		if len(t.UserIDs) != 1 {
			return bad("target.userId", errors.New("exactly one user id is required"))
		}
		fallthrough
	case broker.ToUsers:
		if len(t.UserIDs) == 0 {
			return bad("target.userIds", errors.New("at least one user id is required"))
		}
		if len(t.UserIDs) > 1000 {
			return bad("target.userIds", errors.New("at most 1000 user ids"))
		}
		for _, u := range t.UserIDs {
			if err := ValidateUser(u); err != nil {
				return bad("target.userIds", err)
			}
		}
		slices.Sort(t.UserIDs)
		t.UserIDs = slices.Compact(t.UserIDs)
	case broker.ToChannel:
		if err := ValidateChannel(t.Channel); err != nil {
			return bad("target.channel", err)
		}
	case broker.ToTenant, broker.ToBroadcast:
	default:
		return bad("target", errors.New("unknown target kind"))
	}
	if t.Kind != broker.ToChannel {
		t.Channel = ""
	}
	if t.Kind != broker.ToUser && t.Kind != broker.ToUsers {
		t.UserIDs = nil
	}
	if m.ExcludeConn != "" && len(m.ExcludeConn) > 128 {
		return bad("excludeConnectionId", errors.New("too long"))
	}
	return nil
}
