package demo

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"
)

// What the store keeps per tenant; older entries are forgotten.
const (
	maxMessages = 100 // per conversation
	maxInvoices = 50
)

// store holds the demo's state in memory, so that a page loaded later
// shows what happened before. It is safe for concurrent use.
type store struct {
	mu      sync.Mutex
	tenants map[string]*tenantState
}

type tenantState struct {
	messages map[string][]Message // by conversation, oldest first
	invoices []Invoice            // newest first
	next     int                  // the next invoice number
}

func newStore(now time.Time) *store {
	s := &store{tenants: map[string]*tenantState{}}
	for i := range tenants {
		t := &tenants[i]
		ts := &tenantState{messages: map[string][]Message{}, next: t.firstInvoice}
		s.tenants[t.ID] = ts
		seed := seeds[t.ID]
		for j, m := range seed.messages {
			u, _ := findUser(t.ID, m.from)
			ts.messages[m.conv] = append(ts.messages[m.conv], Message{
				ID: newID(), Text: m.text, Sender: person(u), SentAt: now.Add(-time.Duration(len(seed.messages)-j) * 7 * time.Minute),
			})
		}
		for j, inv := range seed.invoices {
			u, _ := findUser(t.ID, inv.by)
			c, _ := t.customer(inv.customer)
			ts.invoices = append([]Invoice{{
				ID: newID(), Number: fmt.Sprintf("INV-%d", ts.next), Customer: c,
				Total: Money{Amount: inv.amount, Currency: t.Currency}, Status: inv.status,
				CreatedBy: person(u), CreatedAt: now.Add(-time.Duration(len(seed.invoices)-j) * 26 * time.Hour),
			}}, ts.invoices...)
			ts.next++
		}
	}
	return s
}

// seeds are what each tenant starts with, so that no page starts empty.
var seeds = map[string]struct {
	messages []struct{ conv, from, text string }
	invoices []struct {
		customer, by, status string
		amount               int64
	}
}{
	"acme": {
		messages: []struct{ conv, from, text string }{
			{"general", "carol", "Morning! The Q2 pricing sheet is in the shared drive."},
			{"general", "alice", "Thanks! I'll walk Hooli through it this afternoon."},
			{"launch", "alice", "Landing page copy is final. Waiting on the screenshots."},
		},
		invoices: []struct {
			customer, by, status string
			amount               int64
		}{{"hooli", "carol", "paid", 480000}, {"initech", "alice", "open", 125000}},
	},
	"globex": {
		messages: []struct{ conv, from, text string }{
			{"general", "dave", "Month-end close starts Thursday."},
			{"general", "bob", "Noted. I'll have the support numbers by Wednesday."},
			{"support", "bob", "Ticket queue is clear for today."},
		},
		invoices: []struct {
			customer, by, status string
			amount               int64
		}{{"wayne", "dave", "paid", 1290000}, {"cyberdyne", "bob", "open", 86000}},
	},
}

// snapshot returns copies of a tenant's messages by conversation and its
// invoices.
func (s *store) snapshot(tenantID string) (map[string][]Message, []Invoice) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.tenants[tenantID]
	if ts == nil {
		return map[string][]Message{}, []Invoice{}
	}
	msgs := make(map[string][]Message, len(ts.messages))
	for k, v := range ts.messages {
		msgs[k] = slices.Clone(v)
	}
	return msgs, slices.Clone(ts.invoices)
}

func (s *store) addMessage(tenantID, conv string, m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.tenants[tenantID]
	list := append(ts.messages[conv], m)
	if len(list) > maxMessages {
		list = slices.Clone(list[len(list)-maxMessages:])
	}
	ts.messages[conv] = list
}

// addInvoice numbers inv, stores it and returns it.
func (s *store) addInvoice(tenantID string, inv Invoice) Invoice {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.tenants[tenantID]
	inv.Number = fmt.Sprintf("INV-%d", ts.next)
	ts.next++
	ts.invoices = append([]Invoice{inv}, ts.invoices...)
	if len(ts.invoices) > maxInvoices {
		ts.invoices = ts.invoices[:maxInvoices]
	}
	return inv
}

func person(u User) Person { return Person{ID: u.ID, Name: u.Name} }

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
