package metrics

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Other is the label value that stands for every tenant or event name
// without a label of its own. A tenant or event really named "other"
// shares its series.
const Other = "other"

// eventSeries holds one event label's counters, resolved once so that the
// hot paths do no label hashing.
type eventSeries struct {
	published, dispatched, queued, delivered prometheus.Counter
	dropped, rateLimited, coalesced          prometheus.Counter
}

// eventLabels maps event names to their series: the names of
// Config.Events, then the first MaxEvents others seen, then Other.
type eventLabels struct {
	o     *Observer
	known sync.Map // name → *eventSeries
	other *eventSeries
	full  atomic.Bool

	mu     sync.Mutex // serializes admissions
	n, max int
}

func newEventLabels(o *Observer, pinned []string, max int) *eventLabels {
	e := &eventLabels{o: o, max: max}
	e.other = o.newEventSeries(Other)
	e.known.Store(Other, e.other)
	for _, name := range pinned {
		e.known.Store(name, o.newEventSeries(name))
	}
	e.full.Store(max <= 0)
	return e
}

// series returns name's series, admitting the name while there is room.
func (e *eventLabels) series(name string) *eventSeries {
	if s, ok := e.known.Load(name); ok {
		return s.(*eventSeries)
	}
	if e.full.Load() {
		return e.other
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if s, ok := e.known.Load(name); ok {
		return s.(*eventSeries)
	}
	if e.n >= e.max {
		e.full.Store(true)
		return e.other
	}
	e.n++
	s := e.o.newEventSeries(name)
	e.known.Store(name, s)
	return s
}

// tenantCounts counts live connections per tenant; its gauge is computed
// at scrape time from the pinned tenants and the busiest others.
type tenantCounts struct {
	mu     sync.Mutex
	n      map[string]int
	pinned map[string]bool
	top    int
}

func newTenantCounts(pinned []string, top int) *tenantCounts {
	t := &tenantCounts{n: map[string]int{}, pinned: map[string]bool{}, top: top}
	for _, p := range pinned {
		t.pinned[p] = true
	}
	return t
}

func (t *tenantCounts) add(tenant string, d int) {
	t.mu.Lock()
	if v := t.n[tenant] + d; v > 0 {
		t.n[tenant] = v
	} else {
		delete(t.n, tenant) // the map holds live tenants only
	}
	t.mu.Unlock()
}

// labelled returns the gauge's values by label: every pinned tenant (zero
// included), the top busiest others (ties broken by name), and Other for
// the rest (zero included, so the series never vanishes).
func (t *tenantCounts) labelled() map[string]int {
	type tc struct {
		tenant string
		n      int
	}
	t.mu.Lock()
	out := make(map[string]int, len(t.pinned)+t.top+1)
	rest := make([]tc, 0, len(t.n))
	for p := range t.pinned {
		out[p] = 0
	}
	for k, v := range t.n {
		if t.pinned[k] {
			out[k] = v
		} else {
			rest = append(rest, tc{k, v})
		}
	}
	t.mu.Unlock()
	slices.SortFunc(rest, func(a, b tc) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return cmp.Compare(a.tenant, b.tenant)
	})
	out[Other] += 0
	for i, r := range rest {
		if i < t.top {
			out[r.tenant] += r.n
		} else {
			out[Other] += r.n
		}
	}
	return out
}
