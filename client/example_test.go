package client_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ssehub/ssehub"
	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/client"
	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/ssehttp"
)

// Notification is a payload type shared by publisher and client.
type Notification struct {
	Title string `json:"title"`
}

// NotificationNew declares the event once, for both sides.
var NotificationNew = ssehub.Define[Notification]("notification:new")

func Example() {
	// A server for the example: a hub behind the stream handler.
	h, _ := hub.New(hub.Config{})
	jwt, _ := auth.NewJWT(auth.JWTConfig{Secret: secret})
	mux := http.NewServeMux()
	ssehttp.Mount(mux, ssehttp.Config{Hub: h, Authenticator: jwt})
	srv := httptest.NewServer(mux)
	defer func() { _ = h.Shutdown(context.Background()); srv.Close(); _ = jwt.Close() }()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := client.New(client.Config{
		URL: srv.URL + "/api/sse",
		Token: func(context.Context) (string, error) {
			return auth.Mint(secret, auth.Claims{Subject: "alice", TenantID: "acme"}, time.Hour)
		},
		OnReady: func(r client.Ready) {
			fmt.Println("connected as", r.UserID)
			// The backend publishes; here in-process, usually POST /api/events.
			_, _ = ssehub.Emit(ctx, h, NotificationNew, Notification{Title: "Hello"}, ssehub.ToUser("acme", "alice"))
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	client.On(c, NotificationNew, func(n Notification, _ client.Meta) {
		fmt.Println("notification:", n.Title)
		cancel() // done: Run returns
	})
	fmt.Println(c.Run(ctx))
	// Output:
	// connected as alice
	// notification: Hello
	// context canceled
}
