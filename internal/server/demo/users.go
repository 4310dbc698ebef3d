package demo

// OpsTenant is the tenant of the admin's dashboard connection, and
// OpsChannel the channel on which Run publishes the stats.
const (
	OpsTenant  = "_ops"
	OpsChannel = "ops:stats"
)

// User is a demo user as the login page lists it.
type User struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Title      string `json:"title"`
	TenantID   string `json:"tenantId"`
	TenantName string `json:"tenantName"`
	Admin      bool   `json:"admin,omitempty"`
}

// Tenant is a demo tenant: its conversations and the customers its invoices
// are made out to.
type Tenant struct {
	ID            string         `json:"id"`
	Name          string         `json:"name"`
	Currency      string         `json:"currency"`
	Conversations []Conversation `json:"conversations"`
	Customers     []Customer     `json:"customers"`
	firstInvoice  int
}

// Conversation is a chat room of a tenant. Its channel is
// conversation:<ID>; both tenants have a "general" conversation, and
// neither sees the other's.
type Conversation struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Customer is who an invoice is made out to.
type Customer struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

var users = []User{
	{ID: "alice", Name: "Alice Martin", Title: "Account manager", TenantID: "acme", TenantName: "Acme Corp"},
	{ID: "carol", Name: "Carol Nguyen", Title: "Finance lead", TenantID: "acme", TenantName: "Acme Corp"},
	{ID: "bob", Name: "Bob Tanaka", Title: "Support engineer", TenantID: "globex", TenantName: "Globex"},
	{ID: "dave", Name: "Dave Okafor", Title: "Controller", TenantID: "globex", TenantName: "Globex"},
	{ID: "admin", Name: "Operator", Title: "Runs ssehub", TenantID: OpsTenant, TenantName: "Operations", Admin: true},
}

var tenants = []Tenant{
	{
		ID: "acme", Name: "Acme Corp", Currency: "EUR", firstInvoice: 1041,
		Conversations: []Conversation{{"general", "General"}, {"launch", "Spring launch"}},
		Customers:     []Customer{{"initech", "Initech"}, {"hooli", "Hooli"}, {"vandelay", "Vandelay Industries"}},
	},
	{
		ID: "globex", Name: "Globex", Currency: "USD", firstInvoice: 2207,
		Conversations: []Conversation{{"general", "General"}, {"support", "Support desk"}},
		Customers:     []Customer{{"cyberdyne", "Cyberdyne Systems"}, {"wayne", "Wayne Enterprises"}, {"soylent", "Soylent Corp"}},
	},
}

func findUser(tenantID, id string) (User, bool) {
	for _, u := range users {
		if u.ID == id && u.TenantID == tenantID {
			return u, true
		}
	}
	return User{}, false
}

func userByID(id string) (User, bool) {
	for _, u := range users {
		if u.ID == id {
			return u, true
		}
	}
	return User{}, false
}

func findTenant(id string) *Tenant {
	for i := range tenants {
		if tenants[i].ID == id {
			return &tenants[i]
		}
	}
	return nil
}

// members returns the users of a tenant.
func members(tenantID string) []User {
	var out []User
	for _, u := range users {
		if u.TenantID == tenantID {
			out = append(out, u)
		}
	}
	return out
}

func (t *Tenant) conversation(id string) (Conversation, bool) {
	for _, c := range t.Conversations {
		if c.ID == id {
			return c, true
		}
	}
	return Conversation{}, false
}

func (t *Tenant) customer(id string) (Customer, bool) {
	for _, c := range t.Customers {
		if c.ID == id {
			return c, true
		}
	}
	return Customer{}, false
}
