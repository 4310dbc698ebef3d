package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// stalledSet is --stalled: streams that read sse:ready and then nothing,
// on sockets with a small receive buffer, so that the server meets a full
// socket for each. They are held by this process, beside the readers of
// the run, and get the same events (the next connection indexes).
type stalledSet struct {
	conns []net.Conn
}

// openStalled opens n stalled streams to ap, of connection indexes first
// to first+n-1.
func openStalled(ctx context.Context, ap netip.AddrPort, wl workload, first, n, rcvbuf int) (*stalledSet, error) {
	s := &stalledSet{}
	m := wl.minter()
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			// Before connect, so that the window offered is small.
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
		})
		return errors.Join(err, serr)
	}}
	for i := range n {
		c, err := d.DialContext(ctx, "tcp", ap.String())
		if err != nil {
			s.close()
			return nil, fmt.Errorf("stalled stream %d: %w", i, err)
		}
		s.conns = append(s.conns, c)
		if _, err := c.Write(wl.request(m, first+i)); err != nil {
			s.close()
			return nil, fmt.Errorf("stalled stream %d: %w", i, err)
		}
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReaderSize(c, 512) // reads no further than it must
		for {
			ln, err := br.ReadString('\n')
			if err != nil {
				s.close()
				return nil, fmt.Errorf("stalled stream %d before sse:ready: %w", i, err)
			}
			if strings.HasPrefix(ln, "event: sse:ready") {
				break
			}
			if strings.HasPrefix(ln, "HTTP/1.1 ") && !strings.HasPrefix(ln, "HTTP/1.1 200") {
				s.close()
				return nil, fmt.Errorf("stalled stream %d: %s", i, strings.TrimSpace(ln))
			}
		}
	}
	return s, nil
}

// closedByServer reads every stalled stream (now, at last) for up to d
// and counts those the server had closed: they end within d, the others
// still stream.
func (s *stalledSet) closedByServer(d time.Duration) int {
	var closed atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for _, c := range s.conns {
		wg.Go(func() {
			_ = c.SetReadDeadline(deadline)
			_, err := io.Copy(io.Discard, c)
			var ne net.Error
			if !(errors.As(err, &ne) && ne.Timeout()) {
				closed.Add(1) // EOF or reset: the server closed it
			}
		})
	}
	wg.Wait()
	return int(closed.Load())
}

func (s *stalledSet) close() {
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

// rssPeak samples the servers' RSS until stop is called, and returns the
// highest sum seen.
func rssPeak(pids []int, every time.Duration) (stop func() int64) {
	var peak atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if v := sum(procRSSAll(pids)); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-t.C:
			case <-done:
				return
			}
		}
	})
	return func() int64 {
		close(done)
		wg.Wait()
		return peak.Load()
	}
}
