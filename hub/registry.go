package hub

// The registry indexes live connections so that delivery costs grow with
// the number of recipients, not with the number of connections. All of it
// is guarded by Hub.mu.

type userKey struct{ tenant, user string }
type chanKey struct{ tenant, channel string }

type registry struct {
	conns     map[ConnID]*Conn
	byTenant  map[string]map[*Conn]struct{}
	byUser    map[userKey][]*Conn // oldest first
	byChannel map[chanKey]map[*Conn]struct{}
}

func newRegistry() registry {
	return registry{
		conns:     make(map[ConnID]*Conn),
		byTenant:  make(map[string]map[*Conn]struct{}),
		byUser:    make(map[userKey][]*Conn),
		byChannel: make(map[chanKey]map[*Conn]struct{}),
	}
}

func addTo[K comparable](m map[K]map[*Conn]struct{}, k K, c *Conn) {
	set := m[k]
	if set == nil {
		set = make(map[*Conn]struct{})
		m[k] = set
	}
	set[c] = struct{}{}
}

func removeFrom[K comparable](m map[K]map[*Conn]struct{}, k K, c *Conn) {
	if set := m[k]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(m, k)
		}
	}
}

func (r *registry) add(c *Conn) {
	r.conns[c.id] = c
	addTo(r.byTenant, c.tenant, c)
	uk := userKey{c.tenant, c.user}
	r.byUser[uk] = append(r.byUser[uk], c)
	for ch := range c.channels {
		addTo(r.byChannel, chanKey{c.tenant, ch}, c)
	}
}

// remove unindexes c and reports whether it was registered.
func (r *registry) remove(c *Conn) bool {
	if r.conns[c.id] != c {
		return false
	}
	delete(r.conns, c.id)
	removeFrom(r.byTenant, c.tenant, c)
	uk := userKey{c.tenant, c.user}
	list := r.byUser[uk]
	for i, x := range list {
		if x == c {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(r.byUser, uk)
	} else {
		r.byUser[uk] = list
	}
	for ch := range c.channels {
		removeFrom(r.byChannel, chanKey{c.tenant, ch}, c)
	}
	return true
}

func (r *registry) subscribe(c *Conn, ch string) {
	if _, ok := c.channels[ch]; ok {
		return
	}
	if c.channels == nil {
		c.channels = make(map[string]struct{})
	}
	c.channels[ch] = struct{}{}
	addTo(r.byChannel, chanKey{c.tenant, ch}, c)
}

func (r *registry) unsubscribe(c *Conn, ch string) {
	if _, ok := c.channels[ch]; !ok {
		return
	}
	delete(c.channels, ch)
	if len(c.channels) == 0 {
		c.channels = nil
	}
	removeFrom(r.byChannel, chanKey{c.tenant, ch}, c)
}

// oldest returns the connection of the node that connected first.
func (r *registry) oldest() *Conn {
	var o *Conn
	for _, c := range r.conns {
		if o == nil || c.created.Before(o.created) || c.created.Equal(o.created) && c.serial < o.serial {
			o = c
		}
	}
	return o
}

// Sizes reports the number of entries of each index; all are zero when no
// connection is live. Tests use it to prove nothing leaks.
type Sizes struct {
	Conns, Tenants, Users, Channels int
}

func (r *registry) sizes() Sizes {
	return Sizes{len(r.conns), len(r.byTenant), len(r.byUser), len(r.byChannel)}
}
