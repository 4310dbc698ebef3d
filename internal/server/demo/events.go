package demo

import (
	"time"

	"github.com/ssehub/ssehub"
	"github.com/ssehub/ssehub/hub"
)

// The events the demo publishes. Their payloads follow the example catalog
// (examples/catalog), so the demo also runs with
// --catalog examples/catalog/catalog.yaml; ops:stats is the demo's own.
var (
	chatMessage  = ssehub.Define[ChatMessage]("chat:message")
	chatTyping   = ssehub.Define[ChatTyping]("chat:typing")
	dataUpdate   = ssehub.Define[DataUpdate]("data:update")
	notification = ssehub.Define[Notification]("notification:new")
	presence     = ssehub.Define[Presence]("presence:update")
	announcement = ssehub.Define[Announcement]("system:announcement")
	opsStats     = ssehub.Define[OpsStats]("ops:stats")
)

// Person is a user as shown next to what they did.
type Person struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ChatMessage is the payload of chat:message.
type ChatMessage struct {
	ConversationID string  `json:"conversationId"`
	Message        Message `json:"message"`
}

// Message is one chat message.
type Message struct {
	ID     string    `json:"id"`
	Text   string    `json:"text"`
	Sender Person    `json:"sender"`
	SentAt time.Time `json:"sentAt"`
}

// ChatTyping is the payload of chat:typing.
type ChatTyping struct {
	ConversationID string `json:"conversationId"`
	UserID         string `json:"userId"`
	IsTyping       bool   `json:"isTyping"`
}

// DataUpdate is the payload of data:update, as in the seed's invoice
// example: {entity: "invoice", action: "create", id, data}.
type DataUpdate struct {
	Entity string   `json:"entity"`
	Action string   `json:"action"`
	ID     string   `json:"id"`
	Data   *Invoice `json:"data,omitempty"`
}

// Invoice is a demo invoice.
type Invoice struct {
	ID        string    `json:"id"`
	Number    string    `json:"number"`
	Customer  Customer  `json:"customer"`
	Total     Money     `json:"total"`
	Status    string    `json:"status"` // "open" or "paid"
	CreatedBy Person    `json:"createdBy"`
	CreatedAt time.Time `json:"createdAt"`
}

// Money is an amount in a currency's minor unit.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// Notification is the payload of notification:new: a toast.
type Notification struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Message   string    `json:"message,omitempty"`
	Type      string    `json:"type"` // info, success, warning or error
	From      *Person   `json:"from,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// Presence is the payload of presence:update.
type Presence struct {
	UserID   string     `json:"userId"`
	Status   string     `json:"status"` // online or offline
	LastSeen *time.Time `json:"lastSeen"`
}

// Announcement is the payload of system:announcement, a broadcast.
type Announcement struct {
	Message string `json:"message"`
	Type    string `json:"type"` // info, warning or critical
}

// OpsStats is the payload of ops:stats, what the dashboard charts.
type OpsStats struct {
	// Source is the node that published these stats.
	Source string    `json:"source"`
	At     time.Time `json:"at"`
	// IntervalMs is how often they are published.
	IntervalMs int64 `json:"intervalMs"`
	// Stats are the cluster's (one node's without a cluster), each node's
	// in Nodes. ClientsByUser is left out; ClientsByTenant keeps the
	// busiest tenants and counts the rest as "(other)".
	Stats hub.Stats `json:"stats"`
	// Queue is the source node's connection queues: the hub's stats do not
	// gather them from other nodes.
	Queue QueueStats `json:"queue"`
}

// QueueStats sums one node's connection queues.
type QueueStats struct {
	NodeID string `json:"nodeId"`
	Conns  int    `json:"conns"`
	// Queued is the events waiting in all queues, Max the most in one.
	Queued int `json:"queued"`
	Max    int `json:"max"`
	// Cap is one queue's capacity.
	Cap int `json:"cap"`
}
