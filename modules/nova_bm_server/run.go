package main

import (
	"fmt"
	"strings"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/server"
	"github.com/metalkit/baremetal/internal/task"
)

// run boots, keeps or deletes the servers: one (name) or a fleet (servers),
// through the same steps: observe and plan all (the pre-flight), capacity,
// apply Concurrency at a time.
func run(t *task.Task) (*ansible.Result, error) {
	ds, err := desireds(t)
	if err != nil {
		return nil, err
	}
	cloud, err := t.Cloud()
	if err != nil {
		return nil, err
	}
	c, err := server.Connect(t.Ctx, cloud, ds[0].State)
	if err != nil {
		return nil, err
	}
	if ds[0].State == server.StateDiagnose {
		t.Deprecate("state=diagnose is deprecated: use metalkit.baremetal.nova_bm_server_info (same flavor, name and availability_zone, same diagnosis)", "2.0.0")
		values, msg, err := server.DiagnoseOnly(t.Ctx, c, ds[0])
		if err != nil {
			return nil, err
		}
		return &ansible.Result{Msg: msg, Values: values}, nil
	}
	fleet := server.Fleet{Concurrency: t.Int("concurrency"), Failfast: t.Bool("failfast"),
		WaitForCapacity: t.Bool("wait_for_capacity") && !t.CheckMode}
	members, problems, err := fleet.Observe(t.Ctx, c, ds)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 && t.IsSet("servers") {
		// One pre-flight for the fleet: nothing is created while any is left.
		// (One server's problems are its plan's failure, reported as ever.)
		return nil, fmt.Errorf("pre-flight check failed, nothing was created: %s", strings.Join(problems, "; "))
	}
	for _, m := range members {
		for _, w := range m.Plan.Warnings {
			t.Warn(w)
		}
		m.Settle(t.Ctx, c, t.CheckMode)
	}
	var capacity []server.Capacity
	if t.IsSet("servers") || t.Bool("wait_for_capacity") {
		var warnings []string
		capacity, warnings = fleet.CheckCapacity(t.Ctx, c, members)
		for _, w := range warnings {
			t.Warn(w)
		}
	}
	if !t.CheckMode {
		fleet.Apply(t.Ctx, c, members)
	}
	return report(t, members, capacity)
}
