package ignition

// User is one entry of passwd.users. Ignition ignores Nova keypairs, so SSH
// keys that should reach the host must be listed here.
type User struct {
	Name              string
	SSHAuthorizedKeys []string // one authorized_keys line each (options and comment allowed)
	Groups            []string // supplementary groups
	PasswordHash      string   // crypt(3) hash, e.g. from `mkpasswd -m sha-512`; never logged
}

// File is one entry of storage.files. Contents (inline text) and Source (a
// URL Ignition fetches) are mutually exclusive; neither means an empty file.
type File struct {
	Path         string
	Contents     *string
	Source       string
	Verification string // "sha512-<hex>" (or "sha256-<hex>" on 3.1+); only with Source
	Mode         *int   // e.g. 0o644; nil leaves Ignition's default (0644)
	Overwrite    *bool
	User, Group  string // owner by name, or by numeric id when all digits
}

// Dropin is a systemd drop-in (NAME.conf) of a unit.
type Dropin struct {
	Name, Contents string
}

// Unit is one entry of systemd.units. A unit with no Contents refers to a
// unit the image already ships (to enable, mask or add drop-ins to it).
type Unit struct {
	Name     string
	Contents string
	Enabled  *bool
	Mask     bool
	Dropins  []Dropin
}

// ConfigRef points at a remote Ignition config (the OpenShift pointer-config
// case): Source is its URL, Verification its "sha512-<hex>" hash.
type ConfigRef struct {
	Source       string
	Verification string
}

// Options is everything Render needs; field names follow the
// ignition_render module options (spec_version, ssh_authorized_keys, ...).
type Options struct {
	// SpecVersion is the Ignition spec to emit: 3.0.0 to 3.5.0 ("3.4" is
	// read as 3.4.0) or 2.2.0; empty means DefaultSpecVersion().
	SpecVersion string

	Users []User
	// CACertificates are PEM text or paths to PEM files; each entry becomes
	// one data URL in ignition.security.tls.certificateAuthorities.
	CACertificates []string
	Files          []File
	SystemdUnits   []Unit
	Merge          []ConfigRef // ignition.config.merge (2.2: ignition.config.append)
	Replace        *ConfigRef  // ignition.config.replace

	// Base is a config (as decoded from JSON/YAML) merged underneath ours:
	// it keeps what we do not set, ours wins where both set something. It
	// may omit ignition.version; a 3.x base may be an older 3.x version.
	Base map[string]any

	// MaxSize caps the user data as Nova receives it: base64-encoded
	// (Nova's schema says maxLength 65535 for the encoded string, so at
	// most 49149 bytes of JSON). 0 means DefaultMaxSize; <0 disables.
	MaxSize int
}

// DefaultMaxSize is Nova's limit on the base64-encoded user_data.
const DefaultMaxSize = 65535

// Rendered is a validated Ignition config.
type Rendered struct {
	SpecVersion string         // the version emitted, e.g. "3.5.0"
	Config      map[string]any // JSON decoded: numbers are float64
	JSON        []byte         // deterministic, compact
	UserData    string         // what Nova takes as user data: the JSON text
	Size        int            // len(JSON)
	EncodedSize int            // base64 length, the figure Nova checks
	SHA512      string         // hex sha512 of JSON; "sha512-"+SHA512 verifies it as a remote config
	Compressed  bool           // contents were gzip-compressed to fit MaxSize
	Warnings    []string
}
