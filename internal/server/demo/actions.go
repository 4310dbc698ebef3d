package demo

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ssehub/ssehub"
	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/ssehttp"
)

// Limits of what a visitor may send.
const (
	maxTextLen      = 2000 // characters of a chat message
	maxAnnounceLen  = 280
	maxInvoiceCents = 10_000_000
)

// sendMessage publishes a chat message to the conversation's channel:
// {conversationId, text} → 201 {message, eventId}. The sender is not
// excluded: every tab of every participant, the sender's included, shows
// the message when it arrives on the stream.
func (d *Demo) sendMessage(w http.ResponseWriter, r *http.Request) {
	u, t, ok := d.identify(w, r)
	if !ok {
		return
	}
	var req struct {
		ConversationID string `json:"conversationId"`
		Text           string `json:"text"`
	}
	if !decode(w, r, &req) || !member(w, t) {
		return
	}
	if _, ok := t.conversation(req.ConversationID); !ok {
		invalid(w, "conversationId", "unknown conversation")
		return
	}
	text := strings.TrimSpace(req.Text)
	if text == "" || utf8.RuneCountInString(text) > maxTextLen {
		invalid(w, "text", "a message has 1 to 2000 characters")
		return
	}
	m := Message{ID: newID(), Text: text, Sender: person(u), SentAt: time.Now().UTC()}
	id, err := ssehub.Emit(r.Context(), d.hub, chatMessage, ChatMessage{req.ConversationID, m},
		ssehub.ToChannel(t.ID, "conversation:"+req.ConversationID))
	if err != nil {
		ssehttp.WriteError(w, err)
		return
	}
	d.store.addMessage(t.ID, req.ConversationID, m)
	writeJSON(w, http.StatusCreated, map[string]any{"message": m, "eventId": id})
}

// typing publishes chat:typing to the conversation's channel, except to
// the sender's connection: {conversationId, isTyping, connectionId} → 202
// {eventId, coalesced}. The hub's coalescing limit (1 s by default) holds
// all but the first of a burst and delivers the last one at the window's
// end, so a final isTyping:false is never lost.
func (d *Demo) typing(w http.ResponseWriter, r *http.Request) {
	u, t, ok := d.identify(w, r)
	if !ok {
		return
	}
	var req struct {
		ConversationID string `json:"conversationId"`
		IsTyping       bool   `json:"isTyping"`
		ConnectionID   string `json:"connectionId"`
	}
	if !decode(w, r, &req) || !member(w, t) {
		return
	}
	if _, ok := t.conversation(req.ConversationID); !ok {
		invalid(w, "conversationId", "unknown conversation")
		return
	}
	if len(req.ConnectionID) > 128 {
		invalid(w, "connectionId", "not a connection id")
		return
	}
	id, err := ssehub.Emit(r.Context(), d.hub, chatTyping, ChatTyping{req.ConversationID, u.ID, req.IsTyping},
		ssehub.ToChannel(t.ID, "conversation:"+req.ConversationID), ssehub.ExcludeConn(hub.ConnID(req.ConnectionID)))
	if err != nil {
		ssehttp.WriteError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"eventId": id, "coalesced": id == ""})
}

// createInvoice makes an invoice, publishes the seed's data:update to the
// whole tenant and a notification to the creator's teammates:
// {customerId, amount} → 201 {invoice}.
func (d *Demo) createInvoice(w http.ResponseWriter, r *http.Request) {
	u, t, ok := d.identify(w, r)
	if !ok {
		return
	}
	var req struct {
		CustomerID string `json:"customerId"`
		Amount     int64  `json:"amount"` // minor units
	}
	if !decode(w, r, &req) || !member(w, t) {
		return
	}
	c, ok := t.customer(req.CustomerID)
	if !ok {
		invalid(w, "customerId", "unknown customer")
		return
	}
	if req.Amount < 1 || req.Amount > maxInvoiceCents {
		invalid(w, "amount", "an amount from 0.01 to 100,000.00")
		return
	}
	inv := d.store.addInvoice(t.ID, Invoice{
		ID: newID(), Customer: c, Total: Money{req.Amount, t.Currency}, Status: "open",
		CreatedBy: person(u), CreatedAt: time.Now().UTC(),
	})
	ctx := r.Context()
	if _, err := ssehub.Emit(ctx, d.hub, dataUpdate, DataUpdate{"invoice", "create", inv.ID, &inv}, ssehub.ToTenant(t.ID)); err != nil {
		ssehttp.WriteError(w, err)
		return
	}
	if others := teammates(t.ID, u.ID); len(others) > 0 {
		from := person(u)
		_, err := ssehub.Emit(ctx, d.hub, notification, Notification{
			ID: newID(), Title: "New invoice " + inv.Number, Type: "success", From: &from, CreatedAt: inv.CreatedAt,
			Message: firstName(u) + " invoiced " + c.Name + " " + formatMoney(inv.Total) + ".",
		}, ssehub.ToUsers(t.ID, others...))
		if err != nil {
			d.log.Warn("demo notification not sent", "err", err)
		}
	}
	writeJSON(w, http.StatusCreated, map[string]any{"invoice": inv})
}

// nudge sends a teammate a notification: {userId} → 202 {eventId}.
func (d *Demo) nudge(w http.ResponseWriter, r *http.Request) {
	u, t, ok := d.identify(w, r)
	if !ok {
		return
	}
	var req struct {
		UserID string `json:"userId"`
	}
	if !decode(w, r, &req) || !member(w, t) {
		return
	}
	to, ok := findUser(t.ID, req.UserID)
	if !ok || to.ID == u.ID {
		invalid(w, "userId", "nudge a teammate of your tenant")
		return
	}
	from := person(u)
	id, err := ssehub.Emit(r.Context(), d.hub, notification, Notification{
		ID: newID(), Title: firstName(u) + " nudged you", Message: "Have a look at the General conversation.",
		Type: "info", From: &from, CreatedAt: time.Now().UTC(),
	}, ssehub.ToUser(t.ID, to.ID))
	if err != nil {
		ssehttp.WriteError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"eventId": id})
}

// announce broadcasts a system announcement to every tenant; admin only:
// {message, type} → 202 {eventId}.
func (d *Demo) announce(w http.ResponseWriter, r *http.Request) {
	u, _, ok := d.identify(w, r)
	if !ok {
		return
	}
	if !u.Admin {
		ssehttp.WriteError(w, &ssehttp.Error{Status: 403, Code: ssehttp.CodeForbidden, Message: "only the admin broadcasts"})
		return
	}
	var req Announcement
	if !decode(w, r, &req) {
		return
	}
	req.Message = strings.TrimSpace(req.Message)
	if req.Message == "" || utf8.RuneCountInString(req.Message) > maxAnnounceLen {
		invalid(w, "message", "an announcement has 1 to 280 characters")
		return
	}
	switch req.Type {
	case "":
		req.Type = "info"
	case "info", "warning", "critical":
	default:
		invalid(w, "type", "info, warning or critical")
		return
	}
	id, err := ssehub.Emit(r.Context(), d.hub, announcement, req, ssehub.Broadcast())
	if err != nil {
		ssehttp.WriteError(w, err)
		return
	}
	d.log.Info("demo announcement", "type", req.Type)
	writeJSON(w, http.StatusAccepted, map[string]any{"eventId": id})
}

// member writes 403 and returns false for the admin, who has no tenant of
// the demo.
func member(w http.ResponseWriter, t *Tenant) bool {
	if t == nil {
		ssehttp.WriteError(w, &ssehttp.Error{Status: 403, Code: ssehttp.CodeForbidden, Message: "sign in as a user of a tenant"})
		return false
	}
	return true
}

func invalid(w http.ResponseWriter, field, msg string) {
	ssehttp.WriteError(w, &ssehttp.Error{Status: 400, Code: ssehttp.CodeInvalid, Message: msg, Field: field})
}

// teammates returns the ids of a tenant's users other than userID.
func teammates(tenantID, userID string) []string {
	var ids []string
	for _, m := range members(tenantID) {
		if m.ID != userID {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

func firstName(u User) string {
	first, _, _ := strings.Cut(u.Name, " ")
	return first
}

// formatMoney writes an amount as the page does: "€1,250.00", "$860.00".
func formatMoney(m Money) string {
	sym := m.Currency + " "
	switch m.Currency {
	case "EUR":
		sym = "€"
	case "USD":
		sym = "$"
	}
	digits := strconv.FormatInt(m.Amount/100, 10)
	var b strings.Builder
	b.WriteString(sym)
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	fmt.Fprintf(&b, ".%02d", m.Amount%100)
	return b.String()
}
