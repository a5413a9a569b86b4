package main

import (
	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/pool"
	"github.com/metalkit/baremetal/internal/server"
	"github.com/metalkit/baremetal/internal/task"
)

// report is the result: one server's values at the top level (as ever), or
// servers, a list of them.
func report(t *task.Task, members []*server.Member, capacity []server.Capacity) (*ansible.Result, error) {
	res := &ansible.Result{Values: map[string]any{}}
	var failures []string
	var diffs []any
	list := make([]any, len(members))
	for i, m := range members {
		res.Changed = res.Changed || m.Changed
		v := m.Values
		v["changed"], v["failed"], v["msg"] = m.Changed, m.Failed, m.Msg
		list[i] = v
		if m.Failed {
			failures = append(failures, m.Desired.Name+": "+m.Msg)
		}
		if t.Diff && m.Changed {
			diffs = append(diffs, m.Diff())
		}
	}
	if capacity != nil {
		res.Values["capacity"] = capacity
	}
	if !t.IsSet("servers") {
		m := members[0]
		for k, v := range m.Values {
			if k != "name" && k != "changed" && k != "failed" && k != "msg" {
				res.Values[k] = v
			}
		}
		if len(diffs) == 1 {
			res.Diff = diffs[0]
		}
		if m.Failed {
			return nil, task.Failed(res, m.Msg)
		}
		res.Msg = t.Say("%s", m.Msg)
		return res, nil
	}
	res.Values["servers"] = list
	if len(diffs) > 0 {
		res.Diff = diffs
	}
	if len(failures) > 0 {
		return nil, task.Failed(res, pool.FailedMsg(len(failures), len(members), "servers", "servers", failures))
	}
	res.Msg = t.Say("%s", server.Summary(members, t.CheckMode))
	return res, nil
}
