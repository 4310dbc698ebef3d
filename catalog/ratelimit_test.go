package catalog_test

import (
	"strings"
	"testing"

	"github.com/ssehub/ssehub/catalog"
)

func TestRateLimitBy(t *testing.T) {
	c, err := catalog.Load(strings.NewReader("events:\n  chat:typing:\n    rateLimit: {interval: 1s, mode: coalesce, by: userId}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if r := c.RateLimitRules()["chat:typing"]; r.By != "userId" {
		t.Fatalf("rule = %+v, want By userId", r)
	}
	_, err = catalog.Load(strings.NewReader("events:\n  chat:typing:\n    rateLimit: {interval: 1s, mode: coalesce, by: a..b}\n"))
	if err == nil || !strings.Contains(err.Error(), "by") {
		t.Fatalf("a field with an empty segment: got %v, want an error about by", err)
	}
}
