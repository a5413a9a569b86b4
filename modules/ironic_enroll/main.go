// Command ironic_enroll is the metalkit.baremetal.ironic_enroll module: it
// enrolls instackenv node definitions and their ports in Ironic.
package main

import "github.com/metalkit/baremetal/internal/task"

func main() { task.Run(spec, task.WholeTask, run) }

// module is run inside the task runtime, as main runs it: what tests call.
var module = task.Wrap(task.WholeTask, run)
