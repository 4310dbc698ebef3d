// Command session-auth shows an embedder's own authentication: streams are
// opened with the service's session cookie instead of a JWT, and channel
// access is decided by the service's data (here, conversation membership).
//
//	go run ./examples/session-auth
//	curl -c jar localhost:8082/login?user=alice
//	curl -N -b jar 'localhost:8082/api/sse?channels=conversation:1'
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/ssehttp"
)

// sessions maps a session id to a user; a real service uses its store.
type sessions struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *sessions) login(user string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	s.mu.Lock()
	s.m[id] = user
	s.mu.Unlock()
	return id
}

// Authenticate implements auth.Authenticator with the session cookie.
func (s *sessions) Authenticate(r *http.Request) (auth.Identity, error) {
	c, err := r.Cookie("session")
	if err != nil {
		return auth.Identity{}, auth.ErrNoCredentials
	}
	s.mu.Lock()
	user, ok := s.m[c.Value]
	s.mu.Unlock()
	if !ok {
		return auth.Identity{}, fmt.Errorf("%w: unknown session", auth.ErrInvalidToken)
	}
	id := auth.Identity{UserID: user, TenantID: "acme"}
	if user == "admin" {
		id.Roles = []string{auth.RoleAdmin}
	}
	return id, nil
}

// members of each conversation; the authorizer lets users into their own.
var members = map[string][]string{"1": {"alice", "bob"}, "2": {"bob"}}

func authorize(_ context.Context, id auth.Identity, channel string) error {
	conv, ok := strings.CutPrefix(channel, "conversation:")
	if ok && slices.Contains(members[conv], id.UserID) {
		return nil
	}
	return fmt.Errorf("%w: %s is not in %s", auth.ErrForbidden, id.UserID, channel)
}

func main() {
	h, err := hub.New(hub.Config{})
	if err != nil {
		log.Fatal(err)
	}
	s := &sessions{m: map[string]string{}}
	mux := http.NewServeMux()
	ssehttp.Mount(mux, ssehttp.Config{Hub: h, Authenticator: s, Authorizer: auth.AuthorizerFunc(authorize)})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: s.login(r.URL.Query().Get("user")), HttpOnly: true, SameSite: http.SameSiteLaxMode, Path: "/"})
		fmt.Fprintln(w, "logged in")
	})
	srv := &http.Server{Addr: "127.0.0.1:8082", Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Println("listening on", srv.Addr)
	log.Fatal(srv.ListenAndServe())
}
