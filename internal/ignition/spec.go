package ignition

import (
	"fmt"
	"slices"
	"strings"

	v35types "github.com/coreos/ignition/v2/config/v3_5/types"
)

// specInfo is what differs between the spec versions we emit, as far as our
// own input checks and the compression pass care.
type specInfo struct {
	version       string
	major         int
	schemes       []string // URL schemes the spec's validator accepts
	hashes        []string // verification hash functions it accepts
	compressFiles bool     // storage.files[].contents.compression exists
	compressCAs   bool     // certificateAuthorities[].compression exists (3.1+)
	render        renderer
}

// renderer turns the checked input into validated JSON for one version.
type renderer interface {
	render(m *model, s *specInfo, base map[string]any, compress bool) (*output, error)
}

// output is one rendering: the final JSON, its decoded form and warnings.
type output struct {
	json     []byte
	config   map[string]any
	warnings []string
}

var specs = []*specInfo{
	{version: "2.2.0", major: 2, schemes: []string{"http", "https", "tftp", "s3", "oem", "data"}, hashes: []string{"sha512"}, compressFiles: true, render: spec22{}},
	{version: "3.0.0", major: 3, schemes: []string{"http", "https", "tftp", "s3", "data"}, hashes: []string{"sha512"}, compressFiles: true, render: spec30},
	{version: "3.1.0", major: 3, schemes: []string{"http", "https", "tftp", "s3", "data"}, hashes: []string{"sha512", "sha256"}, compressFiles: true, compressCAs: true, render: spec31},
	{version: "3.2.0", major: 3, schemes: []string{"http", "https", "tftp", "s3", "gs", "data"}, hashes: []string{"sha512", "sha256"}, compressFiles: true, compressCAs: true, render: spec32},
	{version: "3.3.0", major: 3, schemes: []string{"http", "https", "tftp", "s3", "gs", "data"}, hashes: []string{"sha512", "sha256"}, compressFiles: true, compressCAs: true, render: spec33},
	{version: "3.4.0", major: 3, schemes: []string{"http", "https", "tftp", "s3", "gs", "arn", "data"}, hashes: []string{"sha512", "sha256"}, compressFiles: true, compressCAs: true, render: spec34},
	{version: "3.5.0", major: 3, schemes: []string{"http", "https", "tftp", "s3", "gs", "arn", "data"}, hashes: []string{"sha512", "sha256"}, compressFiles: true, compressCAs: true, render: spec35},
}

// DefaultSpecVersion is the newest stable spec the Ignition library knows.
func DefaultSpecVersion() string {
	return v35types.MaxVersion.String()
}

// SupportedSpecVersions lists the versions Render emits, oldest first.
func SupportedSpecVersions() []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.version
	}
	return out
}

// lookupSpec resolves a user's spec_version; "3.4" means "3.4.0".
func lookupSpec(v string) (*specInfo, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		v = DefaultSpecVersion()
	}
	if strings.Count(v, ".") == 1 {
		v += ".0"
	}
	for _, s := range specs {
		if s.version == v {
			return s, nil
		}
	}
	return nil, &FieldError{Field: "spec_version", Msg: fmt.Sprintf("unsupported Ignition spec %q (supported: %s)", v, strings.Join(SupportedSpecVersions(), ", "))}
}

func (s *specInfo) allowsScheme(scheme string) bool { return slices.Contains(s.schemes, scheme) }
func (s *specInfo) allowsHash(fn string) bool       { return slices.Contains(s.hashes, fn) }
