package ssehub

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/event"
	"github.com/ssehub/ssehub/hub"
)

// Event is an event name bound to its payload type T (see package
// event, which clients import without the hub). Declare events once, as
// package variables, with Define.
type Event[T any] = event.Event[T]

// Define declares an event. It panics when name is not a valid event name
// (letters, digits and . _ : -, up to 64 characters, not starting with
// sse: in any case), since that is a programming error.
func Define[T any](name string) Event[T] { return event.Define[T](name) }

// Target names who receives an event. Build one with ToUser, ToUsers,
// ToTenant, ToChannel or Broadcast.
type Target struct {
	tenant string
	t      broker.Target
}

// ToUser targets every connection of one user of a tenant.
func ToUser(tenantID, userID string) Target {
	return Target{tenantID, broker.Target{Kind: broker.ToUser, UserIDs: []string{userID}}}
}

// ToUsers targets every connection of several users of a tenant.
func ToUsers(tenantID string, userIDs ...string) Target {
	return Target{tenantID, broker.Target{Kind: broker.ToUsers, UserIDs: userIDs}}
}

// ToTenant targets every connection of a tenant.
func ToTenant(tenantID string) Target {
	return Target{tenantID, broker.Target{Kind: broker.ToTenant}}
}

// ToChannel targets the connections of a tenant subscribed to channel.
func ToChannel(tenantID, channel string) Target {
	return Target{tenantID, broker.Target{Kind: broker.ToChannel, Channel: channel}}
}

// Broadcast targets every connection of every tenant.
func Broadcast() Target { return Target{t: broker.Target{Kind: broker.ToBroadcast}} }

// EmitOption varies one Emit call.
type EmitOption func(*emitOptions)

type emitOptions struct {
	exclude hub.ConnID
}

// ExcludeConn keeps the event from one connection, typically the sender's
// own, so it gets no echo.
func ExcludeConn(id hub.ConnID) EmitOption {
	return func(o *emitOptions) { o.exclude = id }
}

// Emit publishes payload as event ev to the target and returns the event's
// id. The payload is encoded with encoding/json; its type is fixed by ev,
// so a payload of another type does not compile. Emit returns once the
// event is in the hub's log; delivery to connections is asynchronous.
func Emit[T any](ctx context.Context, h *hub.Hub, ev Event[T], payload T, to Target, opts ...EmitOption) (string, error) {
	if ev.Name() == "" {
		return "", fmt.Errorf("ssehub: Emit: event not declared with Define")
	}
	var o emitOptions
	for _, opt := range opts {
		opt(&o)
	}
	data, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("ssehub: encode %s payload: %w", ev.Name(), err)
	}
	ids, err := h.Publish(ctx, broker.Message{
		Event: ev.Name(), TenantID: to.tenant, Data: data, Target: to.t, ExcludeConn: string(o.exclude),
	})
	if err != nil {
		return "", err
	}
	return ids[0], nil
}
