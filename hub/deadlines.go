package hub

import (
	"container/heap"
	"sync"
	"time"
)

// deadlines ends connections at their token's expiry or maximum age. One
// timer serves every connection: the connections with a deadline are kept
// in a min-heap by that deadline, and the timer is set for the earliest.
// A connection leaves the heap when its deadline passes or when it is
// released, so the heap holds only live connections.
type deadlines struct {
	mu    sync.Mutex
	heap  connHeap
	timer *time.Timer
	at    int64 // when timer fires, unix nanos; 0 when it is stopped
}

// connHeap orders connections by Conn.endAt. Conn.endIdx is each
// connection's index in it, -1 when it is not in it.
type connHeap []*Conn

func (q connHeap) Len() int           { return len(q) }
func (q connHeap) Less(i, j int) bool { return q[i].endAt < q[j].endAt }
func (q connHeap) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].endIdx, q[j].endIdx = int32(i), int32(j)
}
func (q *connHeap) Push(x any) {
	c := x.(*Conn)
	c.endIdx = int32(len(*q))
	*q = append(*q, c)
}
func (q *connHeap) Pop() any {
	old := *q
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	c.endIdx = -1
	return c
}

// add schedules the end of c at c.endAt.
func (d *deadlines) add(c *Conn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c.endIdx >= 0 {
		return
	}
	heap.Push(&d.heap, c)
	d.arm()
}

// remove forgets c; it is a no-op when c is not scheduled.
func (d *deadlines) remove(c *Conn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c.endIdx >= 0 {
		heap.Remove(&d.heap, int(c.endIdx))
	}
	if len(d.heap) == 0 {
		d.heap = nil // let a large backing array go
		if d.timer != nil && d.timer.Stop() {
			d.at = 0
		}
	}
}

// arm sets the timer for the earliest deadline; d.mu is held.
func (d *deadlines) arm() {
	if len(d.heap) == 0 {
		return
	}
	next := d.heap[0].endAt
	if d.at != 0 && d.at <= next {
		return // the timer fires first; fire re-arms it
	}
	d.at = next
	wait := time.Until(time.Unix(0, next))
	if d.timer == nil {
		d.timer = time.AfterFunc(wait, d.fire)
	} else {
		d.timer.Reset(wait)
	}
}

// fire ends the connections whose deadline has passed.
func (d *deadlines) fire() {
	now := time.Now().UnixNano()
	var due []*Conn
	d.mu.Lock()
	d.at = 0
	for len(d.heap) > 0 && d.heap[0].endAt <= now {
		due = append(due, heap.Pop(&d.heap).(*Conn))
	}
	d.arm()
	d.mu.Unlock()
	for _, c := range due {
		c.end(c.endWhy)
	}
}

// stop stops the timer; connections still scheduled are not ended.
func (d *deadlines) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.at = 0
	}
}
