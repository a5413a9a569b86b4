// Command demomod is a tiny binary module for playbook_test.go: it echoes
// what the protocol gave it, so that a real ansible-playbook run can be checked.
package main

import (
	"github.com/metalkit/baremetal/internal/ansible"
)

var spec = &ansible.Spec{
	Name:             "metalkit_demo",
	ShortDescription: "Echo module for protocol tests",
	VersionAdded:     "0.1.0",
	Options: map[string]*ansible.Option{
		"name":     {Required: true, Description: []string{"Name."}},
		"count":    {Type: ansible.TypeInt, Default: 1, Description: []string{"Count."}},
		"password": {NoLog: true, Description: []string{"Password."}},
		"nodes": {Type: ansible.TypeList, Elements: ansible.TypeDict, Description: []string{"Nodes."},
			Options: map[string]*ansible.Option{
				"name":        {Required: true, Description: []string{"Node name."}},
				"pm_password": {NoLog: true, Description: []string{"BMC password."}},
			}},
	},
}

func main() {
	ansible.Run(spec, func(m *ansible.Module) (*ansible.Result, error) {
		m.Warn("demo warning for " + m.Str("name"))
		res := &ansible.Result{
			Changed: true,
			Msg:     "hello " + m.Str("name"),
			Values: map[string]any{
				"check_mode": m.CheckMode, "diff_mode": m.Diff, "count": m.Int("count"),
				"echo": m.Str("password"), "nodes": m.List("nodes"),
			},
		}
		if m.Diff {
			res.Diff = map[string]any{"before": "count: 0\n", "after": "count: " + m.Str("count") + "\n"}
		}
		return res, nil
	})
}
