package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/ignition"
)

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
