// Command ssehub-load measures an SSE server on loopback: it opens N
// streams, publishes at a fixed rate or back to back, checks that every
// stream receives every event meant for it, and reports connect rate,
// server memory per connection, server CPU per delivery, emit→receive and
// publish-call latency.
//
// Usage:
//
//	ssehub-load --spawn --n 10000 --rate 4 --duration 20s
//	ssehub-load --url http://127.0.0.1:8080 --server-pid 1234 --jwt-secret … --n 1000
//	ssehub-load --server-cmd 'bench/bin/peer-gosse --addr {addr}' --n 1000
//	ssehub-load --smoke
//
// Progress goes to standard error, one JSON result line to standard output.
// The exit status is 0 when every stream got every event, 1 on losses or
// errors, 2 on bad flags or when --max-duration cut the run short.
// docs/benchmarks.md describes the method and the fields.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ssehub/ssehub/internal/server"
)

// roleEnv makes a child process of this binary a server (--spawn) or a
// worker (--workers > 1) instead of a load run.
const roleEnv = "SSEHUB_LOAD_ROLE"

func main() {
	os.Exit(mainRole(os.Args[1:]))
}

func mainRole(args []string) int {
	switch os.Getenv(roleEnv) {
	case "server":
		return server.Main(args, os.Stdout, os.Stderr)
	case "worker":
		return workerMain(os.Stdin, os.Stdout, os.Stderr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, os.Stdout, os.Stderr)
}
