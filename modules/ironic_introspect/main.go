// Command ironic_introspect is the metalkit.baremetal.ironic_introspect
// module: it moves Ironic nodes through manage -> inspect -> (provide),
// many at once, and reports each node's outcome.
package main

import "github.com/metalkit/baremetal/internal/task"

func main() { task.Run(spec, task.EachAttempt, run) }

// module is run inside the task runtime, as main runs it: what tests call.
var module = task.Wrap(task.EachAttempt, run)
