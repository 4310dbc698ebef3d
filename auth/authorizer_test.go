package auth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ssehub/ssehub/auth"
)

func TestPatternAuthorizer(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		channel  string
		want     bool
	}{
		{"no claim", nil, "news", false},
		{"empty claim", []string{}, "news", false},
		{"exact", []string{"news"}, "news", true},
		{"exact, other", []string{"news"}, "sport", false},
		{"exact is not a prefix", []string{"news"}, "news:1", false},
		{"star alone", []string{"*"}, "anything:at/all", true},
		{"prefix", []string{"conversation:*"}, "conversation:123", true},
		{"prefix, empty rest", []string{"conversation:*"}, "conversation:", true},
		{"prefix, no separator", []string{"conversation:*"}, "conversations:1", false},
		{"prefix, shorter", []string{"conversation:*"}, "conversation", false},
		{"prefix without separator", []string{"conv*"}, "conversation:1", true},
		{"star inside is literal", []string{"a*b"}, "axb", false},
		{"star inside, exact", []string{"a*b"}, "a*b", true},
		{"empty pattern", []string{""}, "news", false},
		{"empty channel", []string{"*"}, "", false},
		{"second pattern", []string{"news", "user:u1:*"}, "user:u1:inbox", true},
		{"case sensitive", []string{"News"}, "news", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := auth.Identity{UserID: "u1", TenantID: "t1", Channels: tt.patterns}
			err := auth.PatternAuthorizer.AuthorizeChannel(context.Background(), id, tt.channel)
			if got := err == nil; got != tt.want {
				t.Fatalf("AuthorizeChannel(%q, %q): got err %v, want allowed %v", tt.patterns, tt.channel, err, tt.want)
			}
			if err != nil && !errors.Is(err, auth.ErrForbidden) {
				t.Fatalf("got error %v, want it to wrap ErrForbidden", err)
			}
		})
	}
}

func TestPatternAuthorizerAdminGetsNoImplicitChannels(t *testing.T) {
	id := auth.Identity{UserID: "root", Roles: []string{auth.RoleAdmin}}
	err := auth.PatternAuthorizer.AuthorizeChannel(context.Background(), id, "news")
	if !errors.Is(err, auth.ErrForbidden) {
		t.Fatalf("got %v, want ErrForbidden", err)
	}
}

func TestAuthorizerFunc(t *testing.T) {
	var gotChannel string
	a := auth.AuthorizerFunc(func(_ context.Context, id auth.Identity, channel string) error {
		gotChannel = channel
		if id.UserID != "u1" {
			return auth.ErrForbidden
		}
		return nil
	})
	if err := a.AuthorizeChannel(context.Background(), auth.Identity{UserID: "u1"}, "c"); err != nil || gotChannel != "c" {
		t.Fatalf("got %v, channel %q; want nil, %q", err, gotChannel, "c")
	}
	if err := a.AuthorizeChannel(context.Background(), auth.Identity{UserID: "u2"}, "c"); !errors.Is(err, auth.ErrForbidden) {
		t.Fatalf("got %v, want ErrForbidden", err)
	}
}
