package broker

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"strings"
	"sync"
	"time"
)

// MemoryConfig configures a Memory broker. The zero value works.
type MemoryConfig struct {
	// HistorySize is how many messages are kept for replay. Zero means
	// 10,000; negative means none.
	HistorySize int
	// HistoryAge is how long a message is kept for replay. Zero means 5
	// minutes.
	HistoryAge time.Duration
	// HistoryBytes bounds the bytes of the messages kept for replay (their
	// data, event name, tenant, ids and target, as envelopeSize counts
	// them); the oldest go first. Zero means no bound but HistorySize.
	HistoryBytes int64
	// SubscriberBuffer is how many messages may wait for a slow subscriber
	// before Publish waits for it. Zero means 8,192.
	SubscriberBuffer int
	// IdempotencyWindow is how long an idempotency key is remembered
	// (see [Message.IdempotencyKey]). Zero means 10 minutes.
	IdempotencyWindow time.Duration
}

func (c MemoryConfig) withDefaults() MemoryConfig {
	if c.HistorySize == 0 {
		c.HistorySize = 10_000
	}
	if c.HistorySize < 0 {
		c.HistorySize = 0
	}
	if c.HistoryAge == 0 {
		c.HistoryAge = 5 * time.Minute
	}
	if c.SubscriberBuffer <= 0 {
		c.SubscriberBuffer = 8192
	}
	if c.IdempotencyWindow <= 0 {
		c.IdempotencyWindow = DefaultIdempotencyWindow
	}
	return c
}

// Memory is a Broker for a single node: the log lives in this process and
// is lost when it exits, so its epoch is new at every start. It is safe for
// concurrent use.
//
// Publish never drops a message: when a subscriber falls SubscriberBuffer
// messages behind, Publish waits until it catches up.
type Memory struct {
	cfg   MemoryConfig
	epoch string

	mu        sync.Mutex
	seq       uint64     // last assigned
	ring      []Envelope // history, oldest at head
	head      int
	n         int
	bytes     int64 // envelopeSize of the n messages in ring
	subs      map[*memSub]struct{}
	listeners map[*memListener]struct{}
	keys      map[string]memKey // idempotency keys claimed within the window
	keyOrder  []string          // keys in claim order, for expiry
	closed    bool
	wg        sync.WaitGroup
}

type memKey struct {
	id string
	at time.Time
}

type memSub struct {
	ch       chan Envelope
	done     chan struct{}
	doneOnce sync.Once
}

func (s *memSub) stop() { s.doneOnce.Do(func() { close(s.done) }) }

// NewMemory returns an in-memory broker with a fresh epoch.
func NewMemory(cfg MemoryConfig) *Memory {
	cfg = cfg.withDefaults()
	return &Memory{
		cfg:   cfg,
		epoch: newEpoch(),
		ring:  make([]Envelope, cfg.HistorySize),
		subs:  make(map[*memSub]struct{}),
	}
}

// newEpoch returns 8 random base32 characters.
func newEpoch() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
}

// Epoch implements Broker.
func (m *Memory) Epoch() string { return m.epoch }

// Publish implements Broker.
func (m *Memory) Publish(ctx context.Context, msgs ...Message) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ids := make([]string, len(msgs))
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	now := time.Now()
	m.expireKeys(now)
	for i, msg := range msgs {
		var key string
		if msg.IdempotencyKey != "" {
			key = KeyOf(msg.TenantID, msg.IdempotencyKey)
			if k, ok := m.keys[key]; ok {
				ids[i] = k.id
				continue
			}
		}
		m.seq++
		env := Envelope{Message: msg, ID: FormatID(m.epoch, m.seq), Seq: m.seq, Time: now}
		ids[i] = env.ID
		if key != "" {
			if m.keys == nil {
				m.keys = map[string]memKey{}
			}
			m.keys[key] = memKey{env.ID, now}
			m.keyOrder = append(m.keyOrder, key)
		}
		m.append(env)
		for s := range m.subs {
			select {
			case s.ch <- env:
			case <-s.done:
			}
		}
	}
	return ids, nil
}

// expireKeys forgets the idempotency keys claimed longer ago than the
// window. m.mu must be held.
func (m *Memory) expireKeys(now time.Time) {
	n := 0
	for n < len(m.keyOrder) {
		k := m.keyOrder[n]
		if now.Sub(m.keys[k].at) <= m.cfg.IdempotencyWindow {
			break
		}
		delete(m.keys, k)
		n++
	}
	if n > 0 {
		m.keyOrder = append(m.keyOrder[:0], m.keyOrder[n:]...)
	}
}

func (m *Memory) append(env Envelope) {
	if len(m.ring) == 0 {
		return
	}
	size := envelopeSize(&env)
	if b := m.cfg.HistoryBytes; b > 0 {
		for m.n > 0 && m.bytes+size > b {
			m.dropOldest()
		}
	}
	if m.n == len(m.ring) {
		m.dropOldest()
	}
	// A message larger than HistoryBytes is kept alone, so that Replay
	// never skips one silently.
	m.ring[(m.head+m.n)%len(m.ring)] = env
	m.n++
	m.bytes += size
}

// dropOldest forgets the oldest message kept. m.mu must be held.
func (m *Memory) dropOldest() {
	m.bytes -= envelopeSize(&m.ring[m.head])
	m.ring[m.head] = Envelope{}
	m.head = (m.head + 1) % len(m.ring)
	m.n--
}

// envelopeSize is what a kept message counts against HistoryBytes: its
// variable-length fields plus 128 bytes for the rest of the Envelope.
func envelopeSize(env *Envelope) int64 {
	n := len(env.Data) + len(env.Event) + len(env.TenantID) + len(env.ID) + len(env.ExcludeConn) + len(env.Target.Channel) + 128
	for _, u := range env.Target.UserIDs {
		n += len(u) + 16
	}
	return int64(n)
}

// trimAge drops messages older than HistoryAge. m.mu must be held.
func (m *Memory) trimAge(now time.Time) {
	cutoff := now.Add(-m.cfg.HistoryAge)
	for m.n > 0 && m.ring[m.head].Time.Before(cutoff) {
		m.dropOldest()
	}
}

// Subscribe implements Broker.
func (m *Memory) Subscribe(ctx context.Context, deliver func(Envelope)) (<-chan struct{}, error) {
	s := &memSub{ch: make(chan Envelope, m.cfg.SubscriberBuffer), done: make(chan struct{})}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, ErrClosed
	}
	m.subs[s] = struct{}{}
	m.wg.Add(1)
	m.mu.Unlock()

	stopped := make(chan struct{})
	go func() {
		defer m.wg.Done()
		defer close(stopped)
		defer func() {
			s.stop()
			m.mu.Lock()
			delete(m.subs, s)
			m.mu.Unlock()
		}()
		for {
			select {
			case env := <-s.ch:
				deliver(env)
			case <-ctx.Done():
				s.stop()
				drain(s, deliver)
				return
			case <-s.done:
				drain(s, deliver)
				return
			}
		}
	}()
	return stopped, nil
}

// drain delivers what was already handed over to a stopping subscriber, so
// that everything Publish acknowledged before the stop reaches it.
func drain(s *memSub, deliver func(Envelope)) {
	for {
		select {
		case env := <-s.ch:
			deliver(env)
		default:
			return
		}
	}
}

// LastID implements Header.
func (m *Memory) LastID(context.Context) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return FormatID(m.epoch, m.seq), nil
}

// Replay implements Broker.
func (m *Memory) Replay(ctx context.Context, after string, fn func(Envelope) error) error {
	seq, err := ParseID(m.epoch, after)
	if err != nil {
		return err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	if seq > m.seq {
		m.mu.Unlock()
		return ErrUnknownEpoch
	}
	m.trimAge(time.Now())
	oldest := m.seq + 1
	if m.n > 0 {
		oldest = m.ring[m.head].Seq
	}
	if seq+1 < oldest {
		m.mu.Unlock()
		return ErrTooOld
	}
	var out []Envelope
	for i := range m.n {
		env := m.ring[(m.head+i)%len(m.ring)]
		if env.Seq > seq {
			out = append(out, env)
		}
	}
	m.mu.Unlock()
	for _, env := range out {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(env); err != nil {
			return err
		}
	}
	return nil
}

// Close implements Broker. Subscribers receive what was published before
// Close, then stop.
func (m *Memory) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	for s := range m.subs {
		s.stop()
	}
	for l := range m.listeners {
		l.once.Do(func() { close(l.done) })
	}
	m.mu.Unlock()
	m.wg.Wait()
	return nil
}
