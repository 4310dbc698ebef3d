package event_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ssehub/ssehub/event"
)

func TestValidateName(t *testing.T) {
	for _, name := range []string{"chat:message", "a", "data.update_v2-x", strings.Repeat("a", 64), "ssex:ok", "sse"} {
		if err := event.ValidateName(name); err != nil {
			t.Errorf("ValidateName(%q) = %v, want nil", name, err)
		}
	}
	for _, name := range []string{"", strings.Repeat("a", 65), "a b", "a\nb", "é", "x/y"} {
		if err := event.ValidateName(name); !errors.Is(err, event.ErrInvalidName) {
			t.Errorf("ValidateName(%q) = %v, want ErrInvalidName", name, err)
		}
	}
	// The reserved prefix in any case (SSE:ready passed before).
	for _, name := range []string{"sse:ready", "SSE:ready", "Sse:x", "sSE:"} {
		if err := event.ValidateName(name); !errors.Is(err, event.ErrReserved) {
			t.Errorf("ValidateName(%q) = %v, want ErrReserved", name, err)
		}
	}
}

func TestDefine(t *testing.T) {
	ev := event.Define[struct{ N int }]("x:y")
	if ev.Name() != "x:y" {
		t.Fatalf("Name() = %q", ev.Name())
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Define of a reserved name did not panic")
		}
	}()
	event.Define[int]("SSE:ready")
}
