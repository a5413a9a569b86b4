// Command ironic_node_action is the metalkit.baremetal.ironic_node_action
// module: the remedies the "No valid host" diagnosis names, on one Ironic
// node (maintenance, power, resource class, capabilities, traits).
package main

import "github.com/metalkit/baremetal/internal/task"

func main() { task.Run(spec, task.WholeTask, run) }

// module is run inside the task runtime, as main runs it: what tests call.
var module = task.Wrap(task.WholeTask, run)
