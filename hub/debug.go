package hub

import (
	"slices"
	"strings"
	"time"
)

// ConnSnapshot describes one live connection at the instant it was read,
// for operators debugging delivery. It holds no payloads and no tokens.
type ConnSnapshot struct {
	ID       ConnID   `json:"connectionId"`
	TenantID string   `json:"tenantId"`
	UserID   string   `json:"userId"`
	Channels []string `json:"channels"`
	// NodeID is the node serving the connection.
	NodeID string `json:"node"`
	// Queued is how many events wait in the connection's queue, of
	// QueueCap. A queue that stays near full is a slow consumer about to be
	// closed.
	Queued   int `json:"queued"`
	QueueCap int `json:"queueCap"`
	// QueuedBytes is the connection's backlog in bytes (the events queued
	// and those of the write under way not yet written whole), of
	// QueueBytesCap.
	QueuedBytes   int `json:"queuedBytes"`
	QueueBytesCap int `json:"queueBytesCap"`
	// Connected is when the connection registered; LastWrite is the last
	// successful write to it (Connected until the first write).
	Connected time.Time `json:"connected"`
	LastWrite time.Time `json:"lastWrite"`
	// Resumed reports whether the client sent a Last-Event-ID.
	Resumed bool `json:"resumed"`
	// ExpiresAt is when the token expires and the stream ends; zero means
	// never.
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// Connections lists this node's live connections, oldest first: all of
// them when tenant is empty, a tenant's when user is empty, else one
// user's in a tenant. It takes the registry's read lock for as long as it
// copies, so it is for operators, not for hot paths.
func (h *Hub) Connections(tenant, user string) []ConnSnapshot {
	h.mu.RLock()
	var list []*Conn
	switch {
	case tenant == "":
		for _, c := range h.reg.conns {
			list = append(list, c)
		}
	case user == "":
		for c := range h.reg.byTenant[tenant] {
			list = append(list, c)
		}
	default:
		list = append(list, h.reg.byUser[userKey{tenant, user}]...)
	}
	out := make([]ConnSnapshot, 0, len(list))
	for _, c := range list {
		out = append(out, ConnSnapshot{
			ID: c.id, TenantID: c.tenant, UserID: c.user,
			Channels:    sortedKeys(c.channels),
			NodeID:      h.nodeID,
			Queued:      c.queued(),
			QueueCap:    h.cfg.QueueSize,
			QueuedBytes: c.behind(), QueueBytesCap: h.cfg.QueueBytes,
			Connected: c.created,
			LastWrite: time.Unix(0, c.lastWrite.Load()),
			Resumed:   c.lastEventID != "",
			ExpiresAt: c.expiresAt(),
		})
	}
	h.mu.RUnlock()
	slices.SortFunc(out, func(a, b ConnSnapshot) int {
		if c := a.Connected.Compare(b.Connected); c != 0 {
			return c
		}
		return strings.Compare(string(a.ID), string(b.ID))
	})
	return out
}

// DispatchHead returns the id of the last event this node fanned out, or
// of the log's end when the hub started if the broker can tell it, and ""
// before either is known. Replaying the broker after it yields the events
// this node has not dispatched yet: its lag behind the log.
func (h *Hub) DispatchHead() string {
	if p := h.head.Load(); p != nil {
		return *p
	}
	return ""
}
