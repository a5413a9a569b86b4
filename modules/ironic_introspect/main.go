// Command ironic_introspect is the metalkit.baremetal.ironic_introspect
// module: it moves Ironic nodes through manage -> inspect -> (provide),
// many at once, and reports each node's outcome.
package main

import "github.com/metalkit/baremetal/internal/ansible"

func main() { ansible.Run(spec, run) }
