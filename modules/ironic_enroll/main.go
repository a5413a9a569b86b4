// Command ironic_enroll is the metalkit.baremetal.ironic_enroll module: it
// enrolls instackenv node definitions and their ports in Ironic.
package main

import "github.com/metalkit/baremetal/internal/ansible"

func main() { ansible.Run(spec, run) }
