// Command nova_bm_server is the metalkit.baremetal.nova_bm_server module:
// it boots a Nova server on a bare-metal flavor, waits for it, and explains
// "No valid host was found".
package main

import "github.com/metalkit/baremetal/internal/task"

func main() { task.Run(spec, task.WholeTask, run) }

// module is run inside the task runtime, as main runs it: what tests call.
var module = task.Wrap(task.WholeTask, run)
