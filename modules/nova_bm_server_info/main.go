// Command nova_bm_server_info is the metalkit.baremetal.nova_bm_server_info
// module: the read-only "No valid host" diagnosis of a bare-metal flavor
// (and of a server of a name), which changes nothing.
package main

import "github.com/metalkit/baremetal/internal/task"

func main() { task.Run(spec, task.WholeTask, run) }

// module is run inside the task runtime, as main runs it: what tests call.
var module = task.Wrap(task.WholeTask, run)
