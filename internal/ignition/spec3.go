package ignition

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/coreos/go-semver/semver"
	v30 "github.com/coreos/ignition/v2/config/v3_0"
	v30types "github.com/coreos/ignition/v2/config/v3_0/types"
	v31 "github.com/coreos/ignition/v2/config/v3_1"
	v31types "github.com/coreos/ignition/v2/config/v3_1/types"
	v32 "github.com/coreos/ignition/v2/config/v3_2"
	v32types "github.com/coreos/ignition/v2/config/v3_2/types"
	v33 "github.com/coreos/ignition/v2/config/v3_3"
	v33types "github.com/coreos/ignition/v2/config/v3_3/types"
	v34 "github.com/coreos/ignition/v2/config/v3_4"
	v34types "github.com/coreos/ignition/v2/config/v3_4/types"
	v35 "github.com/coreos/ignition/v2/config/v3_5"
	v35types "github.com/coreos/ignition/v2/config/v3_5/types"
	"github.com/coreos/vcontext/report"
)

// spec3 renders one 3.x version with that version's own types, Merge and
// validator, so the output is valid for exactly that version.
type spec3[C any] struct {
	version     string
	parse       func([]byte) (C, report.Report, error) // exactly this version
	parseCompat func([]byte) (C, report.Report, error) // this version or older 3.x
	merge       func(parent, child C) C
}

var (
	spec30 = spec3[v30types.Config]{"3.0.0", v30.Parse, v30.ParseCompatibleVersion, v30.Merge}
	spec31 = spec3[v31types.Config]{"3.1.0", v31.Parse, v31.ParseCompatibleVersion, v31.Merge}
	spec32 = spec3[v32types.Config]{"3.2.0", v32.Parse, v32.ParseCompatibleVersion, v32.Merge}
	spec33 = spec3[v33types.Config]{"3.3.0", v33.Parse, v33.ParseCompatibleVersion, v33.Merge}
	spec34 = spec3[v34types.Config]{"3.4.0", v34.Parse, v34.ParseCompatibleVersion, v34.Merge}
	spec35 = spec3[v35types.Config]{"3.5.0", v35.Parse, v35.ParseCompatibleVersion, v35.Merge}
)

func (s spec3[C]) render(m *model, info *specInfo, base map[string]any, compress bool) (*output, error) {
	doc, err := marshal(build3(m, info, compress))
	if err != nil {
		return nil, err
	}
	// Strict decoding into the version's types: a field this version lacks
	// is a bug in build3, never silently dropped.
	var cfg C
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("internal error: config does not fit Ignition %s types: %w", s.version, err)
	}

	out := &output{}
	if base != nil {
		parent, warns, err := s.parseBase(base)
		if err != nil {
			return nil, err
		}
		out.warnings = append(out.warnings, warns...)
		cfg = s.merge(parent, cfg)
	}

	if out.config, err = toMap(cfg); err != nil {
		return nil, err
	}
	if out.json, err = marshal(out.config); err != nil {
		return nil, err
	}
	// The final word is Ignition's own parser and validator, on the exact
	// bytes we hand back.
	_, rpt, err := s.parse(out.json)
	errs, warns := reportLines(rpt, "invalid Ignition "+s.version+" config at ", "Ignition "+s.version+" config at ")
	out.warnings = append(out.warnings, warns...)
	if err != nil {
		if len(errs) == 0 {
			errs = append(errs, fmt.Errorf("invalid Ignition %s config: %w", s.version, err))
		}
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// parseBase validates the user's base config with Ignition's parser. A base
// without ignition.version is taken as this version; an older 3.x base is
// translated up by ParseCompatibleVersion.
func (s spec3[C]) parseBase(base map[string]any) (C, []string, error) {
	var zero C
	b, err := withVersion(base, s.version)
	if err != nil {
		return zero, nil, err
	}
	ign := b["ignition"].(map[string]any)
	v, _ := ign["version"].(string)
	want := semver.New(s.version)
	got, err := semver.NewVersion(v)
	switch {
	case err != nil:
		return zero, nil, &FieldError{Field: "base.ignition.version", Msg: fmt.Sprintf("%q is not a spec version", v)}
	case got.Major != want.Major:
		return zero, nil, &FieldError{Field: "base.ignition.version", Msg: fmt.Sprintf("%s cannot be merged into a %s config (convert it to 3.x first, e.g. with ignition-config-translate)", v, s.version)}
	case want.LessThan(*got):
		return zero, nil, &FieldError{Field: "base.ignition.version", Msg: fmt.Sprintf("%s is newer than spec_version %s; Ignition does not translate configs downwards", v, s.version)}
	}
	raw, err := json.Marshal(b)
	if err != nil {
		return zero, nil, &FieldError{Field: "base", Msg: fmt.Sprintf("not JSON-encodable: %v", err)}
	}
	cfg, rpt, err := s.parseCompat(raw)
	errs, warns := reportLines(rpt, "base at ", "base at ")
	if err != nil {
		if len(errs) == 0 {
			errs = append(errs, &FieldError{Field: "base", Msg: err.Error()})
		}
		return zero, warns, errors.Join(errs...)
	}
	return cfg, warns, nil
}

// withVersion copies base (the caller's map stays untouched) and fills in
// ignition.version when missing.
func withVersion(base map[string]any, version string) (map[string]any, error) {
	b := make(map[string]any, len(base)+1)
	for k, v := range base {
		b[k] = v
	}
	ign := map[string]any{}
	switch v := b["ignition"].(type) {
	case nil:
	case map[string]any:
		for k, e := range v {
			ign[k] = e
		}
	default:
		return nil, &FieldError{Field: "base.ignition", Msg: fmt.Sprintf("must be a mapping, not %T", v)}
	}
	switch v := ign["version"].(type) {
	case nil:
		ign["version"] = version
	case string:
	default:
		return nil, &FieldError{Field: "base.ignition.version", Msg: fmt.Sprintf("must be a string like %q, not %T", version, v)}
	}
	b["ignition"] = ign
	return b, nil
}

// reportLines splits an Ignition report into errors and warning lines,
// each naming its JSON path. Messages are Ignition's own: they name keys
// and rules, never values, so no secret leaks through them.
func reportLines(rpt report.Report, errPrefix, warnPrefix string) (errs []error, warns []string) {
	for _, e := range rpt.Entries {
		at := jsonPath(e.Context.Path) + ": " + e.Message
		if e.Kind.IsFatal() {
			errs = append(errs, errors.New(errPrefix+at))
		} else {
			warns = append(warns, warnPrefix+at)
		}
	}
	return errs, warns
}

// The 3.x document we build: the JSON shape shared by 3.0 to 3.5 for the
// fields we set. Pointers and omitempty keep it free of empty objects.
type doc3 struct {
	Ignition doc3Ignition `json:"ignition"`
	Passwd   *doc3Passwd  `json:"passwd,omitempty"`
	Storage  *doc3Storage `json:"storage,omitempty"`
	Systemd  *doc3Systemd `json:"systemd,omitempty"`
}

type doc3Ignition struct {
	Config   *doc3IgnitionConfig `json:"config,omitempty"`
	Security *doc3Security       `json:"security,omitempty"`
	Version  string              `json:"version"`
}

type doc3IgnitionConfig struct {
	Merge   []doc3Resource `json:"merge,omitempty"`
	Replace *doc3Resource  `json:"replace,omitempty"`
}

type doc3Resource struct {
	Compression  string            `json:"compression,omitempty"`
	Source       string            `json:"source"`
	Verification *doc3Verification `json:"verification,omitempty"`
}

type doc3Verification struct {
	Hash string `json:"hash"`
}

type doc3Security struct {
	TLS doc3TLS `json:"tls"`
}

type doc3TLS struct {
	CertificateAuthorities []doc3Resource `json:"certificateAuthorities"`
}

type doc3Passwd struct {
	Users []doc3User `json:"users"`
}

type doc3User struct {
	Name              string   `json:"name"`
	PasswordHash      *string  `json:"passwordHash,omitempty"`
	SSHAuthorizedKeys []string `json:"sshAuthorizedKeys,omitempty"`
	Groups            []string `json:"groups,omitempty"`
}

type doc3Storage struct {
	Files []doc3File `json:"files"`
}

type doc3File struct {
	Path      string        `json:"path"`
	Contents  *doc3Resource `json:"contents,omitempty"`
	Mode      *int          `json:"mode,omitempty"`
	Overwrite *bool         `json:"overwrite,omitempty"`
	User      *doc3Owner    `json:"user,omitempty"`
	Group     *doc3Owner    `json:"group,omitempty"`
}

type doc3Owner struct {
	ID   *int   `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

type doc3Systemd struct {
	Units []doc3Unit `json:"units"`
}

type doc3Unit struct {
	Name     string       `json:"name"`
	Contents *string      `json:"contents,omitempty"`
	Enabled  *bool        `json:"enabled,omitempty"`
	Mask     *bool        `json:"mask,omitempty"`
	Dropins  []doc3Dropin `json:"dropins,omitempty"`
}

type doc3Dropin struct {
	Name     string  `json:"name"`
	Contents *string `json:"contents,omitempty"`
}

func build3(m *model, s *specInfo, compress bool) *doc3 {
	d := &doc3{Ignition: doc3Ignition{Version: s.version}}
	if len(m.merge) > 0 || m.replace != nil {
		d.Ignition.Config = &doc3IgnitionConfig{}
		for _, r := range m.merge {
			d.Ignition.Config.Merge = append(d.Ignition.Config.Merge, ref3(r))
		}
		if m.replace != nil {
			r := ref3(*m.replace)
			d.Ignition.Config.Replace = &r
		}
	}
	if len(m.cas) > 0 {
		d.Ignition.Security = &doc3Security{}
		for _, pem := range m.cas {
			d.Ignition.Security.TLS.CertificateAuthorities = append(d.Ignition.Security.TLS.CertificateAuthorities, inline3(pem, compress && s.compressCAs))
		}
	}
	if len(m.users) > 0 {
		d.Passwd = &doc3Passwd{}
		for _, u := range m.users {
			d.Passwd.Users = append(d.Passwd.Users, doc3User{Name: u.name, PasswordHash: u.passwordHash, SSHAuthorizedKeys: u.keys, Groups: u.groups})
		}
	}
	if len(m.files) > 0 {
		d.Storage = &doc3Storage{}
		for _, f := range m.files {
			df := doc3File{Path: f.path, Mode: f.mode, Overwrite: f.overwrite, User: owner3(f.user), Group: owner3(f.group)}
			switch {
			case f.inline:
				r := inline3(f.data, compress && s.compressFiles)
				df.Contents = &r
			case f.source != "":
				r := ref3(mRef{source: f.source, hash: f.hash})
				df.Contents = &r
			}
			d.Storage.Files = append(d.Storage.Files, df)
		}
	}
	if len(m.units) > 0 {
		d.Systemd = &doc3Systemd{}
		for _, u := range m.units {
			du := doc3Unit{Name: u.name, Contents: u.contents, Enabled: u.enabled}
			if u.mask {
				du.Mask = &u.mask
			}
			for _, dr := range u.dropins {
				du.Dropins = append(du.Dropins, doc3Dropin{Name: dr.name, Contents: dr.contents})
			}
			d.Systemd.Units = append(d.Systemd.Units, du)
		}
	}
	return d
}

func ref3(r mRef) doc3Resource {
	out := doc3Resource{Source: r.source}
	if r.hash != "" {
		out.Verification = &doc3Verification{Hash: r.hash}
	}
	return out
}

func inline3(data []byte, compress bool) doc3Resource {
	if compress {
		if u, ok := gzipDataURL(data); ok {
			return doc3Resource{Source: u, Compression: "gzip"}
		}
	}
	return doc3Resource{Source: dataURL(data)}
}

func owner3(o *owner) *doc3Owner {
	if o == nil {
		return nil
	}
	return &doc3Owner{ID: o.id, Name: o.name}
}
