package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// publisher sends events one at a time over one keep-alive connection,
// either on a fixed schedule (rate > 0) or back to back. An event whose
// publish fails does not consume its group's sequence number, so clients
// do not count it as lost.
type publisher struct {
	wl     workload
	url    string
	token  string
	client *http.Client

	mu  sync.Mutex
	lat *hdr.Histogram // publish call, µs
	seq []int64        // events published per group

	// before, when set, is called before event k is published; it may
	// wait (the --window flow control).
	before func(ctx context.Context, k int)

	k    int  // events attempted so far; event k goes to group k % groups
	warm bool // publishing the warm-up: flag events, record no latency

	published, failed, behind atomic.Int64
	errMu                     sync.Mutex
	errs                      map[string]int
}

func newPublisher(wl workload, url string) *publisher {
	return &publisher{
		wl: wl, url: url, token: wl.publisherToken(),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConnsPerHost: 2, DisableCompression: true,
		}},
		lat:  newLatencyHist(),
		seq:  make([]int64, wl.groups()),
		errs: map[string]int{},
	}
}

// run publishes until count events were sent (0: no count limit) or dur
// has passed, or ctx ends. It is not safe for concurrent use.
func (p *publisher) run(ctx context.Context, rate float64, count int, dur time.Duration) {
	start := time.Now()
	end := start.Add(dur)
	var interval time.Duration
	if rate > 0 {
		interval = time.Duration(float64(time.Second) / rate)
	}
	next := start
	for i := 0; count == 0 || i < count; i++ {
		if interval > 0 {
			if d := time.Until(next); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					return
				}
			} else if -d > interval {
				p.behind.Add(1) // the previous publish overran its slot
			}
			next = next.Add(interval)
		}
		if p.before != nil {
			p.before(ctx, p.k)
		}
		if ctx.Err() != nil || !time.Now().Before(end) {
			return
		}
		p.publishOne(ctx, p.k%p.wl.groups())
		p.k++
	}
}

func (p *publisher) publishOne(ctx context.Context, g int) {
	p.mu.Lock()
	seq := p.seq[g] + 1
	p.mu.Unlock()
	t0 := time.Now()
	body := p.wl.publishBody(g, seq, t0.UnixNano(), p.warm)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if p.token != "" {
		req.Header.Set("Authorization", "Bearer "+p.token)
	}
	resp, err := p.client.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			err = fmt.Errorf("publish: status %s", resp.Status)
		}
	}
	el := time.Since(t0)
	if err != nil {
		p.failed.Add(1)
		p.errMu.Lock()
		p.errs[err.Error()]++
		p.errMu.Unlock()
		return
	}
	p.mu.Lock()
	p.seq[g] = seq
	if !p.warm {
		_ = p.lat.RecordValue(max(el.Microseconds(), 1))
	}
	p.mu.Unlock()
	p.published.Add(1)
}

// expected returns the number of events published per group.
func (p *publisher) expected() []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int64(nil), p.seq...)
}
