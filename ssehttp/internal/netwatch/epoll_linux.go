//go:build linux

package netwatch

import (
	"net"
	"sync"

	"golang.org/x/sys/unix"
)

// Watcher reports closed connections. It is safe for concurrent use; the
// zero value is ready.
type Watcher struct {
	mu      sync.Mutex
	epfd    int
	running bool
	watched map[int32]*watch
	wg      sync.WaitGroup
}

type watch struct {
	fd     int32
	onGone func()
}

// Watch calls onGone once, from the watcher's goroutine, when the peer of
// c closes it or sends anything. stop ends the watch and must be called
// before c is closed (a closed descriptor's number is reused). onGone is
// not called after stop returns.
func (w *Watcher) Watch(c net.Conn, onGone func()) (stop func(), err error) {
	rc, err := rawConn(c)
	if err != nil {
		return nil, err
	}
	var fd int32 = -1
	if err := rc.Control(func(f uintptr) { fd = int32(f) }); err != nil {
		return nil, err
	}
	return w.WatchFD(int(fd), onGone)
}

// WatchFD is Watch for a socket's file descriptor, which the caller owns:
// stop must be called before fd is closed.
func (w *Watcher) WatchFD(fd int, onGone func()) (stop func(), err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.running {
		epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			return nil, err
		}
		w.epfd, w.running = epfd, true
		w.watched = map[int32]*watch{}
		w.wg.Add(1)
		go w.loop(epfd)
	}
	wt := &watch{fd: int32(fd), onGone: onGone}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT, Fd: int32(fd)}
	if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return nil, err
	}
	w.watched[int32(fd)] = wt
	return func() { w.unwatch(wt) }, nil
}

func (w *Watcher) unwatch(wt *watch) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.watched[wt.fd] != wt {
		return
	}
	delete(w.watched, wt.fd)
	_ = unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, int(wt.fd), nil)
}

// loop waits for events; it ends (closing the epoll instance) once nothing
// is watched.
func (w *Watcher) loop(epfd int) {
	defer w.wg.Done()
	events := make([]unix.EpollEvent, 128)
	for {
		n, err := unix.EpollWait(epfd, events, 100)
		if err != nil && err != unix.EINTR {
			n = 0
		}
		var gone []func()
		w.mu.Lock()
		for _, ev := range events[:max(n, 0)] {
			if wt := w.watched[ev.Fd]; wt != nil {
				delete(w.watched, ev.Fd)
				_ = unix.EpollCtl(epfd, unix.EPOLL_CTL_DEL, int(ev.Fd), nil)
				gone = append(gone, wt.onGone)
			}
		}
		if len(w.watched) == 0 && len(gone) == 0 {
			w.running = false
			_ = unix.Close(epfd)
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		for _, f := range gone {
			f()
		}
	}
}

// Wait waits until the watcher's goroutine has ended; it ends once nothing
// is watched. Tests use it to prove nothing is left running.
func (w *Watcher) Wait() { w.wg.Wait() }
