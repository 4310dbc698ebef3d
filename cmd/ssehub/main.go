// Command ssehub is the standalone ssehub server. With no configuration it
// starts in dev mode on 127.0.0.1:8080 and prints demo tokens; see
// `ssehub -h` and docs/configuration.md.
package main

import (
	"os"

	"github.com/ssehub/ssehub/internal/server"
)

func main() {
	os.Exit(server.Main(os.Args[1:], os.Stdout, os.Stderr))
}
