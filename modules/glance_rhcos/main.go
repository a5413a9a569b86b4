// Command glance_rhcos is the metalkit.baremetal.glance_rhcos module: it
// streams an RHCOS (or any) image from a URL or a file into Glance,
// decompressing and verifying on the way.
package main

import "github.com/metalkit/baremetal/internal/ansible"

func main() { ansible.Run(spec, run) }
