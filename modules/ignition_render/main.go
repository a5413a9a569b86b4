// Command ignition_render is the metalkit.baremetal.ignition_render module:
// it renders and validates an Ignition config for RHCOS, no cloud access.
package main

import "github.com/metalkit/baremetal/internal/task"

func main() { task.Run(spec, task.WholeTask, run) }

// module is run inside the task runtime, as main runs it: what tests call.
var module = task.Wrap(task.WholeTask, run)
