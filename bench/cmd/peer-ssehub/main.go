// Command peer-ssehub is the ssehub binary (internal/server, as
// cmd/ssehub runs it) with one more flag: --pprof ADDR serves
// net/http/pprof there, for profiles under load.
package main

import (
	"log"
	"net/http"
	_ "net/http/pprof"
	"os"
	"strings"

	"github.com/ssehub/ssehub/internal/server"
)

func main() {
	args, pprofAddr := cutFlag(os.Args[1:], "pprof")
	if pprofAddr != "" {
		go func() { log.Println(http.ListenAndServe(pprofAddr, nil)) }()
	}
	os.Exit(server.Main(args, os.Stdout, os.Stderr))
}

// cutFlag removes --name VALUE or --name=VALUE from args.
func cutFlag(args []string, name string) ([]string, string) {
	var out []string
	val := ""
	for i := 0; i < len(args); i++ {
		a := strings.TrimLeft(args[i], "-")
		switch {
		case a == name && i+1 < len(args) && args[i] != a:
			val = args[i+1]
			i++
		case strings.HasPrefix(a, name+"=") && args[i] != a:
			val = strings.TrimPrefix(a, name+"=")
		default:
			out = append(out, args[i])
		}
	}
	return out, val
}
