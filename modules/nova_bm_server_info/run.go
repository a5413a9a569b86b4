package main

import (
	"errors"
	"strings"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/server"
	"github.com/metalkit/baremetal/internal/task"
)

// run diagnoses: reads only, so check mode runs it as it is.
func run(t *task.Task) (*ansible.Result, error) {
	m, ctx := t.Module, t.Ctx
	d := server.Desired{
		Name:             m.Str("name"),
		State:            server.StateDiagnose,
		Flavor:           m.Str("flavor"),
		AvailabilityZone: m.Str("availability_zone"),
		Timeout:          t.Timeout,
	}
	if strings.TrimSpace(d.Flavor) == "" {
		return nil, errors.New("flavor: must not be empty (a flavor name or ID)")
	}
	if m.IsSet("name") && strings.TrimSpace(d.Name) == "" {
		return nil, errors.New("name: must not be empty when given (a server name), or leave it out")
	}
	cloud, err := t.Cloud()
	if err != nil {
		return nil, err
	}
	c, err := server.Connect(ctx, cloud, server.StateDiagnose)
	if err != nil {
		return nil, err
	}
	values, msg, err := server.DiagnoseOnly(ctx, c, d)
	if err != nil {
		return nil, err
	}
	// An _info module returns what it found: the diagnosis and the server.
	return &ansible.Result{Msg: msg, Values: map[string]any{"diagnosis": values["diagnosis"], "server": values["server"]}}, nil
}
