package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/metalkit/baremetal/internal/cloudopts"
	"github.com/metalkit/baremetal/internal/inspect"
	"github.com/metalkit/baremetal/internal/task"
)

// request is the validated task.
type request struct {
	selection inspect.Selection
	desired   inspect.Desired
	engine    inspect.Engine
}

func parse(t *task.Task) (*request, error) {
	m := t.Module
	r := &request{}
	if m.IsSet("nodes") {
		names := m.StrList("nodes")
		if len(names) == 0 {
			return nil, errors.New("nodes: the list is empty: name at least one node (name or UUID), or use all_in_state")
		}
		for i, n := range names {
			if strings.TrimSpace(n) == "" {
				return nil, fmt.Errorf("nodes[%d]: empty node name", i)
			}
		}
		r.selection.Nodes = names
	}
	r.selection.AllInState = m.Str("all_in_state")

	var warnings []string
	var err error
	r.desired, warnings, err = inspect.NewDesired(m.Bool("provide"), m.Bool("force"), m.Params["capabilities"], m.Str("resource_class"), m.Dict("properties"))
	for _, w := range warnings {
		m.Warn(w)
	}
	if err != nil {
		return nil, err
	}

	r.engine = inspect.Engine{
		Concurrency:       m.Int("concurrency"),
		Retries:           m.Int("retries"),
		Timeout:           t.Timeout,
		NoWait:            !cloudopts.Wait(m.Params),
		Failfast:          m.Bool("failfast"),
		IntrospectionData: m.Bool("introspection_data") && !m.Bool("quiet"),
		Poll:              pollFirst,
		PollMax:           pollMax,
	}
	switch {
	case r.engine.Concurrency < 1:
		return nil, fmt.Errorf("concurrency: expected 1 or more, got %d", r.engine.Concurrency)
	case r.engine.Retries < 0:
		return nil, fmt.Errorf("retries: expected 0 or more, got %d", r.engine.Retries)
	}
	if r.engine.NoWait {
		var needWait []string
		for _, o := range []string{"capabilities", "resource_class", "properties"} {
			if m.IsSet(o) {
				needWait = append(needWait, o)
			}
		}
		if r.desired.Provide {
			needWait = append([]string{"provide"}, needWait...)
		}
		if len(needWait) > 0 {
			return nil, fmt.Errorf("wait: false returns before inspection finishes, but %s can only be applied after it: set wait: true, or drop %s",
				strings.Join(needWait, ", "), strings.Join(needWait, ", "))
		}
	}
	return r, nil
}
