// Command ironic_enroll is the metalkit.baremetal.ironic_enroll module: it
// enrolls instackenv node definitions and their ports in Ironic.
package main

import (
	"bytes"
	"os"

	"github.com/metalkit/baremetal/internal/ansible"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] == ansible.DocsFlag {
		ansible.Run(spec, run)
	}
	// Stray prints go to stderr; the one JSON result passes the guard first.
	stdout := os.Stdout
	os.Stdout = os.Stderr
	var out bytes.Buffer
	code := ansible.Execute(spec, os.Args[1], &out, run)
	_, _ = stdout.Write(guardCredentials(out.Bytes(), credentialsInArgs(os.Args[1])))
	os.Exit(code)
}
