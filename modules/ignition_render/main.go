// Command ignition_render is the metalkit.baremetal.ignition_render module:
// it renders and validates an Ignition config for RHCOS, no cloud access.
package main

import "github.com/metalkit/baremetal/internal/ansible"

func main() { ansible.Run(spec, run) }
