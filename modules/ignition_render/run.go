package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/ignition"
	"github.com/metalkit/baremetal/internal/task"
)

func run(t *task.Task) (*ansible.Result, error) {
	m := t.Module
	opts, err := options(m)
	if err != nil {
		return nil, err
	}
	rendered, err := ignition.Render(opts)
	if err != nil {
		return nil, err
	}
	for _, w := range rendered.Warnings {
		m.Warn(w)
	}
	res := &ansible.Result{Values: map[string]any{
		"config":       rendered.Config,
		"json":         string(rendered.JSON),
		"user_data":    rendered.UserData,
		"size":         rendered.Size,
		"encoded_size": rendered.EncodedSize,
		"sha512":       rendered.SHA512,
		"compressed":   rendered.Compressed,
	}}
	if !m.IsSet("dest") {
		res.Msg = fmt.Sprintf("rendered Ignition %s config, %d bytes", opts.SpecVersion, rendered.Size)
		return res, nil
	}
	dest := m.Str("dest")
	mode, err := strconv.ParseUint(m.Str("mode"), 8, 32)
	if err != nil {
		return nil, fmt.Errorf("mode: %q is not an octal file mode such as 0600", m.Str("mode"))
	}
	res.Values["dest"] = dest
	before, _ := os.ReadFile(dest) // absent file: empty before
	if m.CheckMode {
		if res.Changed, err = ignition.NeedsWrite(dest, rendered.JSON, os.FileMode(mode)); err != nil {
			return nil, fmt.Errorf("dest: %w", err)
		}
	} else {
		res.Changed, err = ignition.WriteFileAtomic(dest, rendered.JSON, os.FileMode(mode))
		if err != nil {
			return nil, fmt.Errorf("dest: %w", err)
		}
	}
	if res.Changed && m.Diff {
		res.Diff = map[string]any{
			"before": string(before), "after": string(rendered.JSON),
			"before_header": dest, "after_header": dest,
		}
	}
	verb := "unchanged"
	switch {
	case res.Changed && m.CheckMode:
		verb = "would be written"
	case res.Changed:
		verb = "written"
	}
	res.Msg = t.Say("Ignition %s config %s: %s (%d bytes)", rendered.SpecVersion, verb, dest, rendered.Size)
	return res, nil
}
