package main

import (
	"fmt"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/ignition"
	"github.com/metalkit/baremetal/internal/safefile"
	"github.com/metalkit/baremetal/internal/task"
)

// maxDest bounds what is read of an existing dest (to compare it): an
// Ignition config for Nova is at most 64 KiB.
const maxDest = 16 << 20

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
	mode, err := safefile.ParseMode("mode", m.Params["mode"])
	if err != nil {
		return nil, err
	}
	if mode&0o077 != 0 && rendered.HoldsPasswordHash() {
		t.Warn(fmt.Sprintf("mode: %04o lets other users read %s, which holds password hashes; 0600 keeps it private", mode, dest))
	}
	res.Values["dest"] = dest
	// Refused before anything is written: a link, a device, a FIFO at dest.
	old, err := safefile.Current("dest", dest, maxDest)
	if err != nil {
		return nil, err
	}
	res.Changed = !old.Same(rendered.JSON, mode)
	if res.Changed && !m.CheckMode {
		if _, err = safefile.Write("dest", dest, rendered.JSON, mode, maxDest); err != nil {
			return nil, err
		}
	}
	if res.Changed && m.Diff {
		// Never the secrets of either side: password hashes and file
		// contents are shown as their size and digest.
		res.Diff = map[string]any{
			"before": ignition.Redacted(old.Content), "after": ignition.Redacted(rendered.JSON),
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
