package ignition

import (
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/ignition/v2/config/shared/parse"
	"github.com/coreos/ignition/v2/config/shared/validations"
	"github.com/metalkit/baremetal/internal/safefile"
	"github.com/vincent-petithory/dataurl"
	"golang.org/x/crypto/ssh"
)

// FieldError is a problem with one input, named in the module's terms
// (users[0].ssh_authorized_keys[1], ca_certificates[0], files[2].path).
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// model is the input after checking: normalized and version-neutral.
type model struct {
	users   []mUser
	cas     [][]byte // normalized PEM, one bundle per ca_certificates entry
	files   []mFile
	units   []mUnit
	merge   []mRef
	replace *mRef
}

type mUser struct {
	name         string
	keys, groups []string
	passwordHash *string
}

type mFile struct {
	path        string
	inline      bool   // contents given as text: becomes a data URL
	data        []byte // the text when inline
	source      string // URL when not inline
	hash        string
	mode        *int
	overwrite   *bool
	user, group *owner
}

type owner struct {
	id   *int
	name string
}

type mUnit struct {
	name     string
	contents *string
	enabled  *bool
	mask     bool
	dropins  []mDropin
}

type mDropin struct {
	name     string
	contents *string
}

type mRef struct{ source, hash string }

// compressible reports whether the compression pass could shrink anything.
func (m *model) compressible(s *specInfo) bool {
	if s.compressCAs && len(m.cas) > 0 {
		return true
	}
	for _, f := range m.files {
		if f.inline && s.compressFiles && len(f.data) > 0 {
			return true
		}
	}
	return false
}

// checker collects every input problem, so one run reports them all.
type checker struct {
	spec  *specInfo
	errs  []error
	warns []string
	now   time.Time
}

func (c *checker) fail(field, format string, args ...any) {
	c.errs = append(c.errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (c *checker) warn(field, format string, args ...any) {
	c.warns = append(c.warns, field+": "+fmt.Sprintf(format, args...))
}

// check validates the options in the user's terms and builds the model.
// Messages never quote password hashes, keys or URLs (URLs may carry
// credentials).
func check(o *Options, s *specInfo) (*model, []string, error) {
	c := &checker{spec: s, now: time.Now()}
	m := &model{}
	m.users = c.users(o.Users)
	m.cas = c.cas(o.CACertificates)
	m.files = c.files(o.Files)
	m.units = c.units(o.SystemdUnits)
	c.unitFileConflicts(m)
	for i, r := range o.Merge {
		m.merge = append(m.merge, c.ref(fmt.Sprintf("merge[%d]", i), r))
	}
	seen := map[string]int{}
	for i, r := range m.merge {
		if j, dup := seen[r.source]; dup && r.source != "" {
			c.fail(fmt.Sprintf("merge[%d].source", i), "same source as merge[%d]", j)
		}
		seen[r.source] = i
	}
	if o.Replace != nil {
		r := c.ref("replace", *o.Replace)
		m.replace = &r
		if len(o.Users)+len(o.Files)+len(o.SystemdUnits)+len(o.Merge) > 0 {
			// Ignition fetches the replacement and uses it instead of this config.
			c.warn("replace", "Ignition uses only the replacement config: users, files, systemd_units and merge given here are ignored on the host (CA certificates still secure the fetch)")
		}
	}
	return m, c.warns, errors.Join(c.errs...)
}

func (c *checker) users(in []User) []mUser {
	var out []mUser
	names := map[string]int{}
	for i, u := range in {
		f := fmt.Sprintf("users[%d]", i)
		mu := mUser{name: strings.TrimSpace(u.Name)}
		if mu.name == "" {
			c.fail(f+".name", "required")
		} else if j, dup := names[mu.name]; dup {
			c.fail(f+".name", "user %q is already users[%d]", mu.name, j)
		} else {
			names[mu.name] = i
		}
		keys := map[string]int{}
		for j, k := range u.SSHAuthorizedKeys {
			kf := fmt.Sprintf("%s.ssh_authorized_keys[%d]", f, j)
			line, ok := c.sshKey(kf, k)
			if !ok {
				continue
			}
			if prev, dup := keys[line]; dup {
				c.fail(kf, "same key as ssh_authorized_keys[%d]", prev)
				continue
			}
			keys[line] = j
			mu.keys = append(mu.keys, line)
		}
		groups := map[string]int{}
		for j, g := range u.Groups {
			gf := fmt.Sprintf("%s.groups[%d]", f, j)
			g = strings.TrimSpace(g)
			switch prev, dup := groups[g]; {
			case g == "":
				c.fail(gf, "empty group name")
			case dup:
				c.fail(gf, "group %q is already groups[%d]", g, prev)
			default:
				groups[g] = j
				mu.groups = append(mu.groups, g)
			}
		}
		if u.PasswordHash != "" {
			h := u.PasswordHash
			mu.passwordHash = &h
			// A plain password would be stored as a hash nobody can match.
			if !strings.HasPrefix(h, "$") || strings.ContainsAny(h, " \t\r\n") {
				c.warn(f+".password_hash", "does not look like a crypt(3) hash (e.g. `mkpasswd -m sha-512`); a plain password here will not let anyone log in")
			}
		}
		out = append(out, mu)
	}
	return out
}

// sshKey checks one authorized_keys entry and returns it trimmed.
func (c *checker) sshKey(field, k string) (string, bool) {
	line := strings.TrimSpace(k)
	switch {
	case line == "":
		c.fail(field, "empty SSH key")
		return "", false
	case strings.Contains(line, "PRIVATE KEY"):
		c.fail(field, "this is a private key: give the public key (the .pub file)")
		return "", false
	case strings.ContainsAny(line, "\r\n"):
		c.fail(field, "one SSH key per entry (found a line break)")
		return "", false
	}
	if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line)); err != nil {
		c.fail(field, "malformed SSH public key: %v", err)
		return "", false
	}
	return line, true
}

// maxPEMFile bounds a CA file: a bundle of every public CA is 200 KiB.
const maxPEMFile = 4 << 20

// cas reads and checks CA certificates: PEM text, or a path to a PEM file.
func (c *checker) cas(in []string) [][]byte {
	var out [][]byte
	seen := map[string]int{}
	for i, s := range in {
		f := fmt.Sprintf("ca_certificates[%d]", i)
		data, from := []byte(s), ""
		if !strings.Contains(s, "-----BEGIN") && !strings.ContainsAny(strings.TrimSpace(s), "\n") {
			p := strings.TrimSpace(s)
			if p == "" {
				c.fail(f, "empty: give PEM text or a path to a PEM file")
				continue
			}
			b, err := safefile.Read(f, p, maxPEMFile)
			if err != nil {
				c.fail(f, "reading CA file: %v", strings.TrimPrefix(err.Error(), f+": "))
				continue
			}
			data, from = b, p+": "
		}
		pemData, ok := c.pemCerts(f, from, data)
		if !ok {
			continue
		}
		if j, dup := seen[string(pemData)]; dup {
			c.fail(f, "%ssame certificates as ca_certificates[%d]", from, j)
			continue
		}
		seen[string(pemData)] = i
		out = append(out, pemData)
	}
	return out
}

// pemCerts keeps only the CERTIFICATE blocks (dropping bundle comments and
// `openssl x509 -text` noise, which only cost user-data bytes) and checks
// each parses as X.509.
func (c *checker) pemCerts(field, from string, data []byte) ([]byte, bool) {
	var out bytes.Buffer
	n := 0
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		n++
		if b.Type != "CERTIFICATE" {
			msg := ""
			if strings.Contains(b.Type, "PRIVATE KEY") {
				msg = " (a private key must never go in an Ignition config)"
			}
			c.fail(field, "%sPEM block %d is a %s, not a CERTIFICATE%s", from, n, b.Type, msg)
			return nil, false
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			c.fail(field, "%sPEM block %d is not a valid X.509 certificate: %v", from, n, err)
			return nil, false
		}
		if c.now.After(cert.NotAfter) {
			c.warn(field, "%scertificate %d (%s) expired on %s", from, n, cert.Subject, cert.NotAfter.UTC().Format(time.DateOnly))
		}
		_ = pem.Encode(&out, &pem.Block{Type: b.Type, Headers: b.Headers, Bytes: b.Bytes})
	}
	if n == 0 {
		c.fail(field, "%snot a PEM certificate (no -----BEGIN CERTIFICATE----- block)", from)
		return nil, false
	}
	return out.Bytes(), true
}

func (c *checker) files(in []File) []mFile {
	var out []mFile
	paths := map[string]int{}
	for i, f := range in {
		fld := fmt.Sprintf("files[%d]", i)
		mf := mFile{path: f.Path, mode: f.Mode, overwrite: f.Overwrite}
		if c.absPath(fld+".path", f.Path) {
			if j, dup := paths[f.Path]; dup {
				c.fail(fld+".path", "%s is already files[%d]", f.Path, j)
			}
			paths[f.Path] = i
		}
		switch {
		case f.Contents != nil && f.Source != "":
			c.fail(fld, "contents and source are mutually exclusive")
		case f.Contents != nil:
			mf.inline, mf.data = true, []byte(*f.Contents)
			if f.Verification != "" {
				c.fail(fld+".verification", "only applies to a source URL, not to inline contents")
			}
		case f.Source != "":
			mf.source = f.Source
			c.url(fld+".source", f.Source)
			mf.hash = c.hash(fld+".verification", f.Verification)
		default:
			if f.Verification != "" {
				c.fail(fld+".verification", "only applies to a source URL")
			}
			if f.Overwrite != nil && *f.Overwrite {
				c.fail(fld+".overwrite", "true needs contents or a source (Ignition rejects overwriting with nothing)")
			}
		}
		if f.Mode != nil {
			md := *f.Mode
			switch {
			case md < 0 || md > 0o7777:
				c.fail(fld+".mode", "%d is not a file mode (0 to 0o7777)", md)
			case md&0o7000 != 0 && looksOctal(md):
				// YAML `mode: 644` is decimal 644 = 0o1204, not rw-r--r--.
				c.warn(fld+".mode", "%d is 0o%o (setuid/setgid/sticky bits set); for rw-r--r-- write 0644 or 0o644", md, md)
			}
		}
		mf.user = c.owner(fld+".user", f.User)
		mf.group = c.owner(fld+".group", f.Group)
		out = append(out, mf)
	}
	return out
}

// looksOctal: a small decimal number spelled with octal digits (644, 755)
// is almost surely an octal mode written without its leading 0.
func looksOctal(n int) bool {
	return n <= 777 && !strings.ContainsAny(strconv.Itoa(n), "89")
}

func (c *checker) owner(field, s string) *owner {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if id, err := strconv.Atoi(s); err == nil {
		if id < 0 {
			c.fail(field, "negative id %d", id)
		}
		return &owner{id: &id}
	}
	return &owner{name: s}
}

func (c *checker) absPath(field, p string) bool {
	switch {
	case p == "":
		c.fail(field, "required")
	case !path.IsAbs(p):
		c.fail(field, "%q is not an absolute path", p)
	case path.Clean(p) != p:
		c.fail(field, "%q is not clean (Ignition wants %q)", p, path.Clean(p))
	default:
		return true
	}
	return false
}

// url checks a source URL against the spec's schemes. It never quotes the
// URL: userinfo or a presigned query may be a credential.
func (c *checker) url(field, s string) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		c.fail(field, "not a valid URL")
	case u.Scheme == "":
		c.fail(field, "not a URL (no scheme such as https://)")
	case !c.spec.allowsScheme(u.Scheme):
		c.fail(field, "URL scheme %q is not supported by Ignition spec %s (use one of %s)", u.Scheme, c.spec.version, strings.Join(c.spec.schemes, ", "))
	case u.Scheme == "data":
		if _, err := dataurl.DecodeString(s); err != nil {
			c.fail(field, "not a valid data URL: %v", err)
		}
	case u.Scheme == "http" || u.Scheme == "https" || u.Scheme == "tftp":
		if u.Host == "" {
			c.fail(field, "URL has no host")
		}
	}
}

// hash checks a verification hash "<function>-<hex digest>".
func (c *checker) hash(field, h string) string {
	if h == "" {
		return ""
	}
	fn, sum, ok := strings.Cut(strings.TrimSpace(h), "-")
	want := map[string]int{"sha512": 128, "sha256": 64}[fn]
	switch _, err := hex.DecodeString(sum); {
	case !ok || want == 0:
		c.fail(field, "not a verification hash: want %s-<hex digest>", c.spec.hashes[0])
	case !c.spec.allowsHash(fn):
		c.fail(field, "hash function %s is not supported by Ignition spec %s (use %s)", fn, c.spec.version, strings.Join(c.spec.hashes, " or "))
	case len(sum) != want || err != nil:
		c.fail(field, "not a verification hash: %s wants %d hex digits", fn, want)
	default:
		return fn + "-" + strings.ToLower(sum)
	}
	return ""
}

func (c *checker) ref(field string, r ConfigRef) mRef {
	if r.Source == "" {
		c.fail(field+".source", "required")
	} else {
		c.url(field+".source", r.Source)
	}
	out := mRef{source: r.Source, hash: c.hash(field+".verification", r.Verification)}
	if strings.HasPrefix(strings.ToLower(r.Source), "http:") && out.hash == "" {
		c.warn(field, "fetched over plain http with no verification hash: anyone on the path can change the config")
	}
	return out
}

var unitExts = []string{".service", ".socket", ".device", ".mount", ".automount", ".swap", ".target", ".path", ".timer", ".snapshot", ".slice", ".scope"}

func (c *checker) units(in []Unit) []mUnit {
	var out []mUnit
	names := map[string]int{}
	for i, u := range in {
		f := fmt.Sprintf("systemd_units[%d]", i)
		mu := mUnit{name: strings.TrimSpace(u.Name), enabled: u.Enabled, mask: u.Mask}
		switch j, dup := names[mu.name]; {
		case mu.name == "":
			c.fail(f+".name", "required")
		case !hasUnitExt(mu.name, unitExts):
			c.fail(f+".name", "%q is not a systemd unit name (want a suffix such as .service, .timer, .mount)", mu.name)
		case dup:
			c.fail(f+".name", "unit %q is already systemd_units[%d]", mu.name, j)
		default:
			names[mu.name] = i
		}
		if u.Contents != "" {
			s := u.Contents
			mu.contents = &s
		}
		opts, err := parse.ParseUnitContents(mu.contents)
		if err != nil {
			c.fail(f+".contents", "%v", err)
		} else if err := validations.ValidateInstallSection(mu.name, u.Enabled != nil && *u.Enabled, mu.contents == nil, opts); err != nil {
			c.warn(f, "%v", err)
		}
		if u.Mask && u.Enabled != nil && *u.Enabled {
			c.warn(f, "both masked and enabled: systemd will not start a masked unit")
		}
		dropins := map[string]int{}
		for j, d := range u.Dropins {
			df := fmt.Sprintf("%s.dropins[%d]", f, j)
			md := mDropin{name: strings.TrimSpace(d.Name)}
			switch k, dup := dropins[md.name]; {
			case md.name == "":
				c.fail(df+".name", "required")
			case !hasUnitExt(md.name, []string{".conf"}):
				c.fail(df+".name", "%q is not a drop-in name (want a .conf suffix)", md.name)
			case dup:
				c.fail(df+".name", "drop-in %q is already dropins[%d]", md.name, k)
			default:
				dropins[md.name] = j
			}
			if d.Contents != "" {
				s := d.Contents
				md.contents = &s
			}
			if _, err := parse.ParseUnitContents(md.contents); err != nil {
				c.fail(df+".contents", "%v", err)
			}
			mu.dropins = append(mu.dropins, md)
		}
		out = append(out, mu)
	}
	return out
}

// unitFileConflicts: Ignition writes units with contents to
// /etc/systemd/system, and 3.x rejects a file on the same path.
func (c *checker) unitFileConflicts(m *model) {
	written := map[string]string{}
	for i, u := range m.units {
		if u.contents != nil {
			written["/etc/systemd/system/"+u.name] = fmt.Sprintf("systemd_units[%d]", i)
		}
		for j, d := range u.dropins {
			if d.contents != nil {
				written["/etc/systemd/system/"+u.name+".d/"+d.name] = fmt.Sprintf("systemd_units[%d].dropins[%d]", i, j)
			}
		}
	}
	for i, f := range m.files {
		if by, ok := written[f.path]; ok {
			c.fail(fmt.Sprintf("files[%d].path", i), "%s is also written by %s: keep one", f.path, by)
		}
	}
}

func hasUnitExt(name string, exts []string) bool {
	ext := path.Ext(name)
	for _, e := range exts {
		if ext == e && len(name) > len(e) {
			return true
		}
	}
	return false
}
