package client_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoServerDependencies: a program that only subscribes must not link
// the hub or the brokers (Redis, NATS clients and all). Before the event
// model moved to its own package, `go list -deps ./client` listed hub,
// broker and ratelimit.
func TestNoServerDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if !strings.HasPrefix(pkg, "github.com/ssehub/ssehub") {
			continue
		}
		switch strings.TrimPrefix(pkg, "github.com/ssehub/ssehub") {
		case "/client", "/event", "/sse":
		default:
			t.Errorf("client depends on %s", pkg)
		}
	}
}
