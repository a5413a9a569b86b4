package main

import (
	"fmt"
	"strings"

	"github.com/metalkit/baremetal/internal/capabilities"
	"github.com/metalkit/baremetal/internal/cloudopts"
	"github.com/metalkit/baremetal/internal/nodeaction"
	"github.com/metalkit/baremetal/internal/task"
)

// desired maps and checks the options; nothing is contacted yet.
func desired(t *task.Task) (nodeaction.Desired, error) {
	m := t.Module
	d := nodeaction.Desired{Node: m.Str("node"), Wait: cloudopts.Wait(m.Params), PurgeTraits: m.Bool("purge_traits")}
	if m.IsSet("maintenance") {
		v := m.Bool("maintenance")
		d.Maintenance = &v
	}
	if m.IsSet("maintenance_reason") {
		v := m.Str("maintenance_reason")
		d.MaintenanceReason = &v
	}
	if m.IsSet("resource_class") {
		v := m.Str("resource_class")
		d.ResourceClass = &v
	}
	var err error
	if d.Power, err = power(m.Params["power"]); err != nil {
		return d, err
	}
	if m.IsSet("capabilities") {
		if d.Capabilities, err = capabilities.Parse(m.Params["capabilities"]); err != nil {
			return d, fmt.Errorf("capabilities: %w", err)
		}
		if len(d.Capabilities) == 0 {
			return d, fmt.Errorf("capabilities: empty, expected at least one key, such as profile:baremetal")
		}
	}
	if m.IsSet("traits") {
		d.Traits = m.StrList("traits")
	}
	return d, d.Check()
}

// power reads the power option: a choice, or a YAML boolean (an unquoted
// on/off is one in YAML 1.1): true is on, false is off.
func power(v any) (string, error) {
	switch p := v.(type) {
	case nil:
		return "", nil
	case bool:
		if p {
			return nodeaction.PowerOn, nil
		}
		return nodeaction.PowerOff, nil
	case string:
		s := strings.ToLower(strings.TrimSpace(p))
		for _, c := range nodeaction.PowerChoices {
			if s == c {
				return nodeaction.NormalizePower(s), nil
			}
		}
	}
	return "", fmt.Errorf("power: expected one of %s, got %v", choiceList(), v)
}

func choiceList() string {
	parts := make([]string, len(nodeaction.PowerChoices))
	for i, c := range nodeaction.PowerChoices {
		parts[i] = fmt.Sprint(c)
	}
	return strings.Join(parts, ", ")
}
