package main

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// probe measures how quickly the server answers an unrelated request
// while it fans out: GET url (the server's /healthz) at random moments,
// rate times a second on average, over its own keep-alive connection. The
// publisher's calls come at fixed times, after the previous fan-out has
// usually ended; the probe's land anywhere, in the middle of fan-outs too.
// Every server of the comparison serves /healthz.
func probe(ctx context.Context, url string, rate float64) *hdr.Histogram {
	lat := newLatencyHist()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	mean := time.Duration(float64(time.Second) / rate)
	for {
		select {
		case <-time.After(time.Duration(rand.Int64N(int64(2 * mean)))):
		case <-ctx.Done():
			return lat
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			continue // ctx ended, or a failure the publisher will report too
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			_ = lat.RecordValue(max(time.Since(t0).Microseconds(), 1))
		}
	}
}
