package client_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/ssehub/ssehub/client"
)

// TestRetryIsTheBackoffBase: with Config.Backoff nil, the stream's retry:
// is the base of the backoff (retry·2^n, ±10 %), and it outlives the
// connection that sent it.
func TestRetryIsTheBackoffBase(t *testing.T) {
	s := newScript(t,
		streamEnd("retry: 150\n\ndata: a\n\n"), // failed: waits 150 ms
		status(503, ""),                        // 300 ms
		status(502, ""),                        // 600 ms
		stream(""),
	)
	c, err := client.New(client.Config{URL: s.srv.URL, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	r := start(t, c)
	waitFor(t, 10*time.Second, "four requests", func() bool { return len(s.requests()) >= 4 })
	r.stop()
	reqs := s.requests()
	for i, want := range []time.Duration{150 * time.Millisecond, 300 * time.Millisecond, 600 * time.Millisecond} {
		gap := reqs[i+1].at.Sub(reqs[i].at)
		if gap < want*9/10 || gap > want*11/10+100*time.Millisecond {
			t.Errorf("wait before attempt %d: got %v, want %v ±10%%", i+1, gap, want)
		}
	}
}
