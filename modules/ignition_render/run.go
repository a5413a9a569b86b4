package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

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
	if res.Changed {
		verb = "written"
	}
	res.Msg = fmt.Sprintf("Ignition %s config %s: %s (%d bytes)", rendered.SpecVersion, verb, dest, rendered.Size)
	return res, nil
}

// options maps the validated module parameters onto the renderer's options.
func options(m *ansible.Module) (ignition.Options, error) {
	o := ignition.Options{
		SpecVersion:    m.Str("spec_version"),
		CACertificates: expandHome(m.StrList("ca_certificates")),
		Base:           m.Dict("base"),
		MaxSize:        m.Int("max_size"),
	}
	for _, u := range dicts(m.List("users")) {
		o.Users = append(o.Users, ignition.User{
			Name:              str(u["name"]),
			SSHAuthorizedKeys: strs(u["ssh_authorized_keys"]),
			Groups:            strs(u["groups"]),
			PasswordHash:      str(u["password_hash"]),
		})
	}
	for _, f := range dicts(m.List("files")) {
		file := ignition.File{
			Path: str(f["path"]), Source: str(f["source"]), Verification: str(f["verification"]),
			User: str(f["user"]), Group: str(f["group"]),
		}
		if c, ok := f["contents"].(string); ok {
			file.Contents = &c
		}
		if mode, ok := f["mode"].(int); ok {
			file.Mode = &mode
		}
		if ow, ok := f["overwrite"].(bool); ok {
			file.Overwrite = &ow
		}
		o.Files = append(o.Files, file)
	}
	for _, u := range dicts(m.List("systemd_units")) {
		unit := ignition.Unit{Name: str(u["name"]), Contents: str(u["contents"])}
		if e, ok := u["enabled"].(bool); ok {
			unit.Enabled = &e
		}
		unit.Mask, _ = u["mask"].(bool)
		for _, d := range dicts(list(u["dropins"])) {
			unit.Dropins = append(unit.Dropins, ignition.Dropin{Name: str(d["name"]), Contents: str(d["contents"])})
		}
		o.SystemdUnits = append(o.SystemdUnits, unit)
	}
	for _, r := range dicts(m.List("merge")) {
		o.Merge = append(o.Merge, ignition.ConfigRef{Source: str(r["source"]), Verification: str(r["verification"])})
	}
	if r := m.Dict("replace"); r != nil {
		o.Replace = &ignition.ConfigRef{Source: str(r["source"]), Verification: str(r["verification"])}
	}
	return o, nil
}

func str(v any) string { s, _ := v.(string); return s }
func list(v any) []any { l, _ := v.([]any); return l }
func strs(v any) []string {
	var out []string
	for _, e := range list(v) {
		out = append(out, str(e))
	}
	return out
}
func dicts(l []any) []map[string]any {
	var out []map[string]any
	for _, e := range l {
		if d, ok := e.(map[string]any); ok {
			out = append(out, d)
		}
	}
	return out
}

// expandHome expands a leading ~/ in CA certificate paths, as type path would;
// PEM text is left alone.
func expandHome(certs []string) []string {
	home, err := os.UserHomeDir()
	if err != nil {
		return certs
	}
	out := make([]string, len(certs))
	for i, c := range certs {
		if strings.HasPrefix(c, "~/") {
			c = filepath.Join(home, c[2:])
		}
		out[i] = c
	}
	return out
}
