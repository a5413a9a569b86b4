// Command glance_rhcos is the metalkit.baremetal.glance_rhcos module: it
// streams an RHCOS (or any) image from a URL or a file into Glance,
// decompressing and verifying on the way.
package main

import "github.com/metalkit/baremetal/internal/task"

func main() { task.Run(spec, task.WholeTask, run) }

// module is run inside the task runtime, as main runs it: what tests call.
var module = task.Wrap(task.WholeTask, run)
