package broker

import (
	"context"
	"sync"
)

// The in-memory broker is also a Bus, so that several hubs in one process
// (tests, or an embedder running more than one) behave as a cluster.

type memListener struct {
	ch   chan Control
	done chan struct{}
	once sync.Once
}

// Send implements Bus: it hands c to every listener without waiting; a
// listener more than 1024 messages behind misses it, as a slow node would.
func (m *Memory) Send(ctx context.Context, c Control) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	for l := range m.listeners {
		select {
		case l.ch <- c:
		default:
		}
	}
	return nil
}

// Listen implements Bus.
func (m *Memory) Listen(ctx context.Context, fn func(Control)) (<-chan struct{}, error) {
	l := &memListener{ch: make(chan Control, 1024), done: make(chan struct{})}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, ErrClosed
	}
	if m.listeners == nil {
		m.listeners = map[*memListener]struct{}{}
	}
	m.listeners[l] = struct{}{}
	m.wg.Add(1)
	m.mu.Unlock()
	stopped := make(chan struct{})
	go func() {
		defer m.wg.Done()
		defer close(stopped)
		defer func() {
			m.mu.Lock()
			delete(m.listeners, l)
			m.mu.Unlock()
		}()
		for {
			select {
			case c := <-l.ch:
				fn(c)
			case <-ctx.Done():
				return
			case <-l.done:
				return
			}
		}
	}()
	return stopped, nil
}
