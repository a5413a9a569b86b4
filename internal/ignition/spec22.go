package ignition

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coreos/ignition/v2/config/shared/parse"
	"github.com/coreos/ignition/v2/config/shared/validations"
)

// Spec 2.2.0 (RHCOS of OpenShift <= 4.5) lives only in the old
// github.com/coreos/ignition v0.35, which cannot be built beside
// ignition/v2 (both claim the same package paths and dependencies). So these
// are our own types for the part of the 2.2 schema we render, plus our own
// copy of the rules 2.2 enforces.

type config22 struct {
	Ignition ignition22 `json:"ignition"`
	Passwd   *passwd22  `json:"passwd,omitempty"`
	Storage  *storage22 `json:"storage,omitempty"`
	Systemd  *systemd22 `json:"systemd,omitempty"`
}

type ignition22 struct {
	Config   *ignitionConfig22 `json:"config,omitempty"`
	Security *security22       `json:"security,omitempty"`
	Version  string            `json:"version"`
}

// ignitionConfig22: 2.x calls "merge" "append".
type ignitionConfig22 struct {
	Append  []reference22 `json:"append,omitempty"`
	Replace *reference22  `json:"replace,omitempty"`
}

type reference22 struct {
	Source       string          `json:"source"`
	Verification *verification22 `json:"verification,omitempty"`
}

type verification22 struct {
	Hash string `json:"hash,omitempty"`
}

type security22 struct {
	TLS tls22 `json:"tls"`
}

type tls22 struct {
	CertificateAuthorities []reference22 `json:"certificateAuthorities,omitempty"`
}

type passwd22 struct {
	Users []user22 `json:"users,omitempty"`
}

type user22 struct {
	Name              string   `json:"name"`
	PasswordHash      *string  `json:"passwordHash,omitempty"`
	SSHAuthorizedKeys []string `json:"sshAuthorizedKeys,omitempty"`
	Groups            []string `json:"groups,omitempty"`
}

type storage22 struct {
	Files       []file22 `json:"files,omitempty"`
	Directories []node22 `json:"directories,omitempty"` // read from a base, for checks
	Links       []node22 `json:"links,omitempty"`       // read from a base, for checks
}

type node22 struct {
	Filesystem string `json:"filesystem"`
	Path       string `json:"path"`
}

type file22 struct {
	Filesystem string     `json:"filesystem"` // 2.x requires it; "root" is the root filesystem
	Path       string     `json:"path"`
	Contents   contents22 `json:"contents"`
	Mode       *int       `json:"mode,omitempty"`
	Overwrite  *bool      `json:"overwrite,omitempty"`
	Append     bool       `json:"append,omitempty"`
	User       *doc3Owner `json:"user,omitempty"`
	Group      *doc3Owner `json:"group,omitempty"`
}

type contents22 struct {
	Compression  string          `json:"compression,omitempty"`
	Source       string          `json:"source"`
	Verification *verification22 `json:"verification,omitempty"`
}

type systemd22 struct {
	Units []unit22 `json:"units,omitempty"`
}

type unit22 struct {
	Name     string     `json:"name"`
	Contents string     `json:"contents,omitempty"`
	Enable   bool       `json:"enable,omitempty"` // deprecated in 2.x; read from a base
	Enabled  *bool      `json:"enabled,omitempty"`
	Mask     bool       `json:"mask,omitempty"`
	Dropins  []dropin22 `json:"dropins,omitempty"`
}

type dropin22 struct {
	Name     string `json:"name"`
	Contents string `json:"contents,omitempty"`
}

const version22 = "2.2.0"

// 2.x leaves an unset file mode at 0000 ("permissions unset, defaulting to
// 0000"), unlike 3.x's 0644; we write 3.x's default explicitly.
const defaultFileMode22 = 0o644

type spec22 struct{}

func (spec22) render(m *model, s *specInfo, base map[string]any, compress bool) (*output, error) {
	cfg, err := toMap(build22(m, compress))
	if err != nil {
		return nil, err
	}
	out := &output{}
	if base != nil {
		b, err := withVersion(base, version22)
		if err != nil {
			return nil, err
		}
		if v := b["ignition"].(map[string]any)["version"]; v != version22 {
			return nil, &FieldError{Field: "base.ignition.version", Msg: fmt.Sprintf("%v cannot be merged into a %s config (only %s)", v, version22, version22)}
		}
		bm, err := toMap(b) // a deep copy, normalized to JSON types
		if err != nil {
			return nil, &FieldError{Field: "base", Msg: fmt.Sprintf("not JSON-encodable: %v", err)}
		}
		cfg = merge22(bm, cfg, "").(map[string]any)
	}
	defaultModes22(cfg, m)
	out.config = cfg
	if out.json, err = marshal(cfg); err != nil {
		return nil, err
	}
	errs, warns := validate22(out.json, s)
	out.warnings = append(out.warnings, warns...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func build22(m *model, compress bool) *config22 {
	c := &config22{Ignition: ignition22{Version: version22}}
	if len(m.merge) > 0 || m.replace != nil {
		c.Ignition.Config = &ignitionConfig22{}
		for _, r := range m.merge {
			c.Ignition.Config.Append = append(c.Ignition.Config.Append, ref22(r))
		}
		if m.replace != nil {
			r := ref22(*m.replace)
			c.Ignition.Config.Replace = &r
		}
	}
	if len(m.cas) > 0 {
		c.Ignition.Security = &security22{}
		for _, pem := range m.cas {
			// 2.x CA references have no compression field.
			c.Ignition.Security.TLS.CertificateAuthorities = append(c.Ignition.Security.TLS.CertificateAuthorities, reference22{Source: dataURL(pem)})
		}
	}
	if len(m.users) > 0 {
		c.Passwd = &passwd22{}
		for _, u := range m.users {
			c.Passwd.Users = append(c.Passwd.Users, user22{Name: u.name, PasswordHash: u.passwordHash, SSHAuthorizedKeys: u.keys, Groups: u.groups})
		}
	}
	if len(m.files) > 0 {
		c.Storage = &storage22{}
		for _, f := range m.files {
			cf := file22{Filesystem: "root", Path: f.path, Mode: f.mode, Overwrite: f.overwrite, User: owner3(f.user), Group: owner3(f.group)}
			switch {
			case f.inline:
				cf.Contents.Source = dataURL(f.data)
				if compress {
					if u, ok := gzipDataURL(f.data); ok {
						cf.Contents = contents22{Source: u, Compression: "gzip"}
					}
				}
			case f.source != "":
				r := ref22(mRef{source: f.source, hash: f.hash})
				cf.Contents = contents22{Source: r.Source, Verification: r.Verification}
			default:
				cf.Contents.Source = "data:,"
			}
			c.Storage.Files = append(c.Storage.Files, cf)
		}
	}
	if len(m.units) > 0 {
		c.Systemd = &systemd22{}
		for _, u := range m.units {
			cu := unit22{Name: u.name, Enabled: u.enabled, Mask: u.mask}
			if u.contents != nil {
				cu.Contents = *u.contents
			}
			for _, d := range u.dropins {
				cd := dropin22{Name: d.name}
				if d.contents != nil {
					cd.Contents = *d.contents
				}
				cu.Dropins = append(cu.Dropins, cd)
			}
			c.Systemd.Units = append(c.Systemd.Units, cu)
		}
	}
	return c
}

// defaultModes22 gives our files without a mode, after the merge (so a
// base's mode for the same path still wins), 3.x's default 0644.
func defaultModes22(cfg map[string]any, m *model) {
	ours := map[string]bool{}
	for _, f := range m.files {
		ours[f.path] = true
	}
	st, _ := cfg["storage"].(map[string]any)
	files, _ := st["files"].([]any)
	for _, e := range files {
		f, ok := e.(map[string]any)
		if !ok || f["filesystem"] != "root" {
			continue
		}
		if p, _ := f["path"].(string); ours[p] && f["mode"] == nil {
			f["mode"] = float64(defaultFileMode22)
		}
	}
}

func ref22(r mRef) reference22 {
	out := reference22{Source: r.source}
	if r.hash != "" {
		out.Verification = &verification22{Hash: r.hash}
	}
	return out
}

// keys22 says how list entries are matched when a base is merged under
// ours (as Ignition 3's Merge does for 3.x): same key, merged field by field,
// ours winning; other entries appended. Lists of plain values are unioned.
var keys22 = map[string]func(map[string]any) string{
	"ignition.config.append":                       byField("source"),
	"ignition.security.tls.certificateAuthorities": byField("source"),
	"passwd.users":                                 byField("name"),
	"passwd.groups":                                byField("name"),
	"storage.disks":                                byField("device"),
	"storage.raid":                                 byField("name"),
	"storage.filesystems":                          byField("name"),
	"storage.files":                                byFilesystemPath,
	"storage.directories":                          byFilesystemPath,
	"storage.links":                                byFilesystemPath,
	"systemd.units":                                byField("name"),
	"systemd.units.dropins":                        byField("name"),
	"networkd.units":                               byField("name"),
}

func byField(name string) func(map[string]any) string {
	return func(m map[string]any) string { return fmt.Sprint(m[name]) }
}

func byFilesystemPath(m map[string]any) string {
	return fmt.Sprint(m["filesystem"], ":", m["path"])
}

// merge22 merges ours over base (both JSON-shaped); base is modified.
func merge22(base, ours any, at string) any {
	switch b := base.(type) {
	case map[string]any:
		o, ok := ours.(map[string]any)
		if !ok {
			return ours
		}
		if at == "storage" {
			dropShadowedNodes(b, o)
		}
		for k, v := range o {
			if bv, exists := b[k]; exists {
				b[k] = merge22(bv, v, joinKey(at, k))
			} else {
				b[k] = v
			}
		}
		return b
	case []any:
		o, ok := ours.([]any)
		if !ok {
			return ours
		}
		key := keys22[at]
		idx := map[string]int{}
		for i, e := range b {
			idx[entryKey(key, e)] = i
		}
		for _, e := range o {
			k := entryKey(key, e)
			if i, hit := idx[k]; hit {
				if key != nil {
					b[i] = merge22(b[i], e, at)
				}
				continue
			}
			idx[k] = len(b)
			b = append(b, e)
		}
		return b
	default:
		return ours
	}
}

var nodeLists22 = []string{"files", "directories", "links"}

// dropShadowedNodes removes base files, directories and links whose path
// ours uses in another of those lists: a path is one node, and ours wins
// (Ignition 3's Merge does the same for 3.x).
func dropShadowedNodes(base, ours map[string]any) {
	for _, ol := range nodeLists22 {
		oursList, _ := ours[ol].([]any)
		for _, e := range oursList {
			n, ok := e.(map[string]any)
			if !ok {
				continue
			}
			k := byFilesystemPath(n)
			for _, bl := range nodeLists22 {
				baseList, _ := base[bl].([]any)
				if bl == ol || len(baseList) == 0 {
					continue
				}
				kept := baseList[:0:0]
				for _, be := range baseList {
					if bn, ok := be.(map[string]any); !ok || byFilesystemPath(bn) != k {
						kept = append(kept, be)
					}
				}
				if len(kept) == 0 {
					delete(base, bl)
				} else {
					base[bl] = kept
				}
			}
		}
	}
}

func entryKey(key func(map[string]any) string, e any) string {
	if m, ok := e.(map[string]any); ok && key != nil {
		return key(m)
	}
	raw, _ := json.Marshal(e) // plain values: equal JSON, same entry
	return string(raw)
}

func joinKey(at, k string) string {
	if at == "" {
		return k
	}
	return at + "." + k
}

// validate22 applies the 2.2 rules (the ones v0.35's validator enforces for
// the parts we know) to the final JSON.
func validate22(raw []byte, s *specInfo) (errs []error, warns []string) {
	const prefix = "invalid Ignition " + version22 + " config at "
	var cfg config22
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return []error{fmt.Errorf("invalid Ignition %s config: %w", version22, err)}, nil
	}
	c := &checker{spec: s, now: time.Now()}
	if cfg.Ignition.Version != version22 {
		c.fail("ignition.version", "must be %s", version22)
	}
	ref := func(at string, r reference22, required bool) {
		switch {
		case r.Source != "":
			c.url(at+".source", r.Source)
		case required:
			c.fail(at+".source", "required")
		}
		if r.Verification != nil {
			c.hash(at+".verification.hash", r.Verification.Hash)
		}
	}
	if ic := cfg.Ignition.Config; ic != nil {
		for i, r := range ic.Append {
			ref(fmt.Sprintf("ignition.config.append[%d]", i), r, true)
		}
		if ic.Replace != nil {
			ref("ignition.config.replace", *ic.Replace, true)
		}
	}
	if sec := cfg.Ignition.Security; sec != nil {
		for i, r := range sec.TLS.CertificateAuthorities {
			ref(fmt.Sprintf("ignition.security.tls.certificateAuthorities[%d]", i), r, true)
		}
	}
	if p := cfg.Passwd; p != nil {
		seen := map[string]int{}
		for i, u := range p.Users {
			at := fmt.Sprintf("passwd.users[%d].name", i)
			if u.Name == "" {
				c.fail(at, "required")
			} else if j, dup := seen[u.Name]; dup {
				c.fail(at, "duplicate of passwd.users[%d]", j)
			}
			seen[u.Name] = i
		}
	}
	if st := cfg.Storage; st != nil {
		seen := map[string]string{}
		node := func(at string, n node22) {
			if n.Filesystem == "" {
				c.fail(at+".filesystem", "required in spec 2.x (\"root\" for the root filesystem)")
			}
			if c.absPath22(at+".path", n.Path) {
				k := n.Filesystem + ":" + n.Path
				if prev, dup := seen[k]; dup {
					c.fail(at+".path", "duplicate of %s", prev)
				}
				seen[k] = at
			}
		}
		for i, f := range st.Files {
			at := fmt.Sprintf("storage.files[%d]", i)
			node(at, node22{Filesystem: f.Filesystem, Path: f.Path})
			ref(at+".contents", reference22{Source: f.Contents.Source, Verification: f.Contents.Verification}, false)
			if cmp := f.Contents.Compression; cmp != "" && cmp != "gzip" {
				c.fail(at+".contents.compression", "must be gzip or empty")
			}
			if f.Mode != nil && (*f.Mode < 0 || *f.Mode > 0o7777) {
				c.fail(at+".mode", "illegal file mode")
			}
			if f.Overwrite != nil && *f.Overwrite && f.Append {
				c.fail(at, "append and overwrite are mutually exclusive")
			}
		}
		for i, d := range st.Directories {
			node(fmt.Sprintf("storage.directories[%d]", i), d)
		}
		for i, l := range st.Links {
			node(fmt.Sprintf("storage.links[%d]", i), l)
		}
	}
	if sd := cfg.Systemd; sd != nil {
		seen := map[string]int{}
		for i, u := range sd.Units {
			at := fmt.Sprintf("systemd.units[%d]", i)
			if !hasUnitExt(u.Name, unitExts) {
				c.fail(at+".name", "invalid systemd unit extension")
			} else if j, dup := seen[u.Name]; dup {
				c.fail(at+".name", "duplicate of systemd.units[%d]", j)
			}
			seen[u.Name] = i
			var contents *string
			if u.Contents != "" {
				contents = &u.Contents
			}
			opts, err := parse.ParseUnitContents(contents)
			if err != nil {
				c.fail(at+".contents", "%v", err)
			} else if err := validations.ValidateInstallSection(u.Name, u.Enable || (u.Enabled != nil && *u.Enabled), contents == nil, opts); err != nil {
				c.warn(at, "%v", err)
			}
			dropins := map[string]int{}
			for j, d := range u.Dropins {
				dat := fmt.Sprintf("%s.dropins[%d]", at, j)
				if !hasUnitExt(d.Name, []string{".conf"}) {
					c.fail(dat+".name", "invalid systemd drop-in extension")
				} else if k, dup := dropins[d.Name]; dup {
					c.fail(dat+".name", "duplicate of %s.dropins[%d]", at, k)
				}
				dropins[d.Name] = j
				if d.Contents != "" {
					if _, err := parse.ParseUnitContents(&d.Contents); err != nil {
						c.fail(dat+".contents", "%v", err)
					}
				}
			}
		}
	}
	for _, e := range c.errs {
		errs = append(errs, errors.New(prefix+e.Error()))
	}
	for _, w := range c.warns {
		warns = append(warns, strings.TrimPrefix(prefix, "invalid ")+w)
	}
	return errs, warns
}

// absPath22: 2.x only requires absolute paths (3.x also wants them clean).
func (c *checker) absPath22(field, p string) bool {
	switch {
	case p == "":
		c.fail(field, "required")
	case !strings.HasPrefix(p, "/"):
		c.fail(field, "path not absolute")
	default:
		return true
	}
	return false
}
