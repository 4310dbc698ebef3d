package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"time"
)

// claims are the token claims ssehub reads (see auth.Claims); servers
// without auth ignore the token.
type claims struct {
	Sub      string   `json:"sub"`
	Tenant   string   `json:"-"`
	Roles    []string `json:"roles,omitempty"`
	Channels []string `json:"channels,omitempty"`
	Global   bool     `json:"global,omitempty"`
	Exp      int64    `json:"exp"`
	Iat      int64    `json:"iat"`
}

// minter signs HS256 tokens. It is safe for concurrent use.
type minter struct {
	secret      []byte
	tenantClaim string
}

var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

func (m minter) mint(c claims) string {
	now := time.Now()
	c.Iat, c.Exp = now.Unix(), now.Add(24*time.Hour).Unix()
	body, _ := json.Marshal(c)
	if c.Tenant != "" {
		// Add the tenant under its configurable claim name.
		t, _ := json.Marshal(map[string]string{m.tenantClaim: c.Tenant})
		body = append(append(body[:len(body)-1], ','), t[1:]...)
	}
	s := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(body)
	mac := hmac.New(sha256.New, m.secret)
	mac.Write([]byte(s))
	return s + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
