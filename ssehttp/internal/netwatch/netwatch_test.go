package netwatch_test

import (
	"net"
	"testing"
	"time"

	"github.com/ssehub/ssehub/ssehttp/internal/netwatch"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func pair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	done := make(chan net.Conn)
	go func() { c, _ := l.Accept(); done <- c }()
	client, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return <-done, client
}

func TestReportsPeerClose(t *testing.T) {
	var w netwatch.Watcher
	srv, cli := pair(t)
	defer srv.Close()
	gone := make(chan struct{})
	stop, err := w.Watch(srv, func() { close(gone) })
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	select {
	case <-gone:
		t.Fatal("reported gone while the peer is connected")
	case <-time.After(150 * time.Millisecond):
	}
	cli.Close()
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("peer close not reported")
	}
	w.Wait() // nothing is watched any more: the goroutine ends
}

func TestStopBeforeClose(t *testing.T) {
	var w netwatch.Watcher
	const n = 50
	var conns []net.Conn
	for range n {
		srv, cli := pair(t)
		conns = append(conns, srv, cli)
		stop, err := w.Watch(srv, func() { t.Error("onGone after stop") })
		if err != nil {
			t.Fatal(err)
		}
		stop()
	}
	for _, c := range conns {
		c.Close()
	}
	w.Wait()
	// The watcher starts again on the next Watch.
	srv, cli := pair(t)
	defer srv.Close()
	gone := make(chan struct{})
	stop, err := w.Watch(srv, func() { close(gone) })
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	cli.Close()
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("peer close not reported after a restart")
	}
	w.Wait()
}
