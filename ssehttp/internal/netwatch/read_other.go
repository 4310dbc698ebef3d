//go:build !linux

package netwatch

import (
	"net"
	"sync"
)

// Watcher reports closed connections, here with one reading goroutine per
// connection.
type Watcher struct {
	wg sync.WaitGroup
}

// Watch calls onGone once when the peer of c closes it or sends anything.
// stop ends the watch; the reading goroutine ends when c is closed.
func (w *Watcher) Watch(c net.Conn, onGone func()) (stop func(), err error) {
	var mu sync.Mutex
	stopped := false
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		var b [1]byte
		_, _ = c.Read(b[:])
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			onGone()
		}
	}()
	return func() { mu.Lock(); stopped = true; mu.Unlock() }, nil
}

// Wait waits until every reading goroutine has ended.
func (w *Watcher) Wait() { w.wg.Wait() }
