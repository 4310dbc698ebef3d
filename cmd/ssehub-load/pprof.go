package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"
)

// saveHeapProfile saves the server's heap profile (after a GC) as
// heap.pb.gz, and its text form, which ends with runtime.MemStats, as
// heap.txt; and the goroutine count as goroutine.txt.
func (r *runner) saveHeapProfile(ctx context.Context) {
	base := strings.TrimSuffix(r.o.pprofURL, "/")
	for _, f := range []struct{ path, file string }{
		{"/heap?gc=1", "heap.pb.gz"},
		{"/heap?debug=1", "heap.txt"},
		{"/goroutine?debug=1", "goroutine.txt"},
	} {
		if err := fetchTo(ctx, base+f.path, filepath.Join(r.o.pprofDir, f.file), time.Minute); err != nil {
			r.logf("pprof: %v", err)
		}
	}
}

// saveCPUProfile saves a CPU profile of the publish phase as cpu.pb.gz.
func (r *runner) saveCPUProfile(ctx context.Context, d time.Duration) {
	secs := max(int(d.Seconds())-1, 1)
	u := fmt.Sprintf("%s/profile?seconds=%d", strings.TrimSuffix(r.o.pprofURL, "/"), secs)
	if err := fetchTo(ctx, u, filepath.Join(r.o.pprofDir, "cpu.pb.gz"), d+time.Minute); err != nil {
		r.logf("pprof: %v", err)
	}
}

func fetchTo(ctx context.Context, url, file string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// startCPUProfile profiles this process into file until the returned
// function is called; an empty file name profiles nothing.
func startCPUProfile(file string, logf func(string, ...any)) func() {
	if file == "" {
		return func() {}
	}
	f, err := os.Create(file)
	if err != nil {
		logf("cpuprofile: %v", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		logf("cpuprofile: %v", err)
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}
