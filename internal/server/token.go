package server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ssehub/ssehub/auth"
)

// tokenCmd implements `ssehub token`: it mints an HS256 token with the
// secret the server is configured with.
func tokenCmd(args []string, stdout, stderr io.Writer) int {
	var sub, tenant, roles, channels string
	var ttl time.Duration
	var global bool
	cfg, err := Load("token", args, os.Getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&sub, "sub", "", "user id (required)")
		fs.StringVar(&tenant, "tenant", "", "tenant id")
		fs.StringVar(&roles, "role", "", "roles, comma-separated: publisher, admin")
		fs.StringVar(&channels, "channels", "", "channel patterns the user may subscribe to, comma-separated (e.g. 'conversation:*,news')")
		fs.DurationVar(&ttl, "ttl", time.Hour, "lifetime (0: no expiry)")
		fs.BoolVar(&global, "global", false, "the \"global\": true claim: the roles apply to every tenant (publish anywhere, broadcast, admin endpoints); without it the token acts in --tenant only")
	})
	if err == nil {
		err = checkEnviron(os.Environ())
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "ssehub token:", err)
		return 2
	}
	if cfg.JWTSecret == "" {
		fmt.Fprintln(stderr, "ssehub token: no secret: pass --jwt-secret or set SSEHUB_JWT_SECRET")
		return 2
	}
	if sub == "" {
		fmt.Fprintln(stderr, "ssehub token: --sub is required")
		return 2
	}
	tok, err := auth.Mint([]byte(cfg.JWTSecret), auth.Claims{
		Subject: sub, TenantID: tenant, Roles: split(roles), Channels: split(channels), Global: global,
		TenantClaim: cfg.TenantClaim, Issuer: cfg.Issuer, Audience: cfg.Audience,
	}, ttl)
	if err != nil {
		fmt.Fprintln(stderr, "ssehub token:", err)
		return 1
	}
	fmt.Fprintln(stdout, tok)
	return 0
}

func split(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
