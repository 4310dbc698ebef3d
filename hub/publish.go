package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/ratelimit"
)

// Publish validates msgs and appends them to the broker's log as one unit,
// returning their ids in order. Delivery to the connections happens
// asynchronously: Publish never waits for a client.
//
// When any message is invalid nothing is published and the error is a
// *ValidationError (or wraps ErrTooLarge); when a drop-mode rate limit
// refuses any message, nothing is published and the error wraps
// ErrRateLimited. A message held by a coalescing rate limit gets the id ""
// now and is published (or replaced by a later one) at the end of its
// window. A message whose idempotency key the broker has seen within its
// window gets the first id and is not appended again, whichever node
// published it first and even if that Publish failed; more keyed messages
// than Config.MaxIdempotencyKeys in a tenant's window fail with
// ErrRateLimited. After Shutdown Publish fails
// with ErrClosed.
func (h *Hub) Publish(ctx context.Context, msgs ...broker.Message) ([]string, error) {
	// Shutdown waits for publishes under way, so that an acknowledged
	// event is always fanned out before the streams close.
	if err := h.startPublish(); err != nil {
		return nil, err
	}
	defer h.publishing.Done()
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
	if h.cfg.Schema != nil {
		for i := range msgs {
			m := &msgs[i]
			data, err := h.cfg.Schema(ctx, m.Event, m.Target.Kind.String(), m.Data)
			if err != nil {
				return nil, &SchemaError{Index: i, Err: err}
			}
			m.Data = data
		}
	}
	ids := make([]string, len(msgs))
	now := time.Now()

	// A key may appear once per batch; the broker claims each key as it
	// appends, and answers a key claimed earlier with its first id.
	todo := make([]int, 0, len(msgs)) // indexes still to publish
	var batchKeys map[string]struct{}
	var keyed map[string]int // keyed messages per tenant; nil for a publish without keys
	for i, m := range msgs {
		if m.IdempotencyKey != "" {
			k := broker.KeyOf(m.TenantID, m.IdempotencyKey)
			if _, dup := batchKeys[k]; dup {
				return nil, &ValidationError{Index: i, Field: "idempotencyKey", Err: errors.New("repeated within the batch")}
			}
			if batchKeys == nil {
				batchKeys = map[string]struct{}{}
			}
			batchKeys[k] = struct{}{}
			if keyed == nil {
				keyed = map[string]int{}
			}
			keyed[m.TenantID]++
		}
		todo = append(todo, i)
	}
	for tenant, n := range keyed {
		if !h.keys.take(tenant, n, now) {
			h.stats.rateLimited.Add(1)
			return nil, fmt.Errorf("%w: more than %d idempotency keys in tenant %q within %v", ErrRateLimited, h.cfg.MaxIdempotencyKeys, tenant, h.cfg.IdempotencyWindow)
		}
	}

	// Rate limits decide on the whole batch at once.
	items := make([]ratelimit.Item[broker.Message], len(todo))
	for j, i := range todo {
		m := msgs[i]
		items[j] = ratelimit.Item[broker.Message]{Event: m.Event, Key: m.TenantID + "\x00" + m.Target.Key(), Data: m.Data, Value: m}
	}
	decisions, err := h.limiter.Decide(now, items)
	if err != nil {
		h.stats.rateLimited.Add(1)
		for _, it := range items {
			if r, ok := h.limiter.Rule(it.Event); ok && r.Mode == ratelimit.Drop {
				h.cfg.Observer.RateLimited(it.Event)
			}
		}
		return nil, fmt.Errorf("%w: %v", ErrRateLimited, err)
	}
	var pass []broker.Message
	var passIdx []int
	for j, i := range todo {
		if decisions[j] == ratelimit.Held {
			h.stats.coalesced.Add(1)
			h.cfg.Observer.Coalesced(msgs[i].Event)
			continue
		}
		pass = append(pass, msgs[i])
		passIdx = append(passIdx, i)
	}
	if len(pass) > 0 {
		got, err := h.broker.Publish(ctx, pass...)
		if err != nil {
			return nil, err
		}
		for j, i := range passIdx {
			ids[i] = got[j]
		}
		h.stats.published.Add(uint64(len(pass)))
		for _, m := range pass {
			h.cfg.Observer.Published(m.Event)
		}
	}
	return ids, nil
}

// flushCoalesced publishes the values the rate limiter held to the end of
// their windows. It runs on the limiter's goroutine, in batches of at most
// coalesceBatch messages, each with its own deadline so a broker that does
// not answer cannot hold the limiter for ever.
func (h *Hub) flushCoalesced(ms []broker.Message) {
	for len(ms) > 0 {
		n := min(len(ms), coalesceBatch)
		ctx, cancel := context.WithTimeout(context.Background(), coalesceTimeout)
		_, err := h.broker.Publish(ctx, ms[:n]...)
		cancel()
		if err != nil {
			h.cfg.Logger.Error("cannot publish coalesced events", "events", n, "first", ms[0].Event, "err", err)
		} else {
			h.stats.published.Add(uint64(n))
			for _, m := range ms[:n] {
				h.cfg.Observer.Published(m.Event)
			}
		}
		ms = ms[n:]
	}
}

// The batches of flushCoalesced.
const (
	coalesceBatch   = 100
	coalesceTimeout = 10 * time.Second
)

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
	if !utf8.Valid(m.Data) {
		// json.Valid lets invalid UTF-8 through inside strings, and the
		// stream is declared UTF-8.
		return bad("data", errors.New("not valid UTF-8"))
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
