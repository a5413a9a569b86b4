package ignition

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ErrTooLarge is wrapped by Render's error when the config does not fit
// Nova's user-data limit even compressed.
var ErrTooLarge = errors.New("Ignition config too large for Nova user data")

// Render checks the options, builds the config for the requested spec
// version, merges Base underneath, validates the result and makes it fit
// Nova's user-data limit (compressing inline contents where the spec allows).
// Input problems come back together, each naming its field; the output for
// a given input is byte-for-byte stable.
func Render(o Options) (*Rendered, error) {
	spec, err := lookupSpec(o.SpecVersion)
	if err != nil {
		return nil, err
	}
	m, warnings, err := check(&o, spec)
	if err != nil {
		return nil, err
	}
	out, err := spec.render.render(m, spec, o.Base, false)
	if err != nil {
		return nil, err
	}
	limit := o.MaxSize
	if limit == 0 {
		limit = DefaultMaxSize
	}
	compressed := false
	if limit > 0 && encodedLen(out.json) > limit {
		plain := len(out.json)
		if m.compressible(spec) {
			if out, err = spec.render.render(m, spec, o.Base, true); err != nil {
				return nil, err
			}
			compressed = true
		}
		if n := encodedLen(out.json); n > limit {
			return nil, tooLarge(spec, m, plain, out.json, compressed, limit)
		}
		warnings = append(warnings, fmt.Sprintf("config was %d bytes (%d base64-encoded), over the %d-byte user-data limit: inline contents were gzip-compressed to %d bytes", plain, base64.StdEncoding.EncodedLen(plain), limit, len(out.json)))
	}
	sum := sha512.Sum512(out.json)
	return &Rendered{
		SpecVersion: spec.version,
		Config:      out.config,
		JSON:        out.json,
		UserData:    string(out.json),
		Size:        len(out.json),
		EncodedSize: encodedLen(out.json),
		SHA512:      hex.EncodeToString(sum[:]),
		Compressed:  compressed,
		Warnings:    appendNew(warnings, out.warnings),
	}, nil
}

// appendNew adds the validator's warnings, minus those our own checks
// already gave in the user's terms (same message, other field name).
func appendNew(ours, validator []string) []string {
	seen := map[string]bool{}
	for _, w := range ours {
		_, msg, _ := strings.Cut(w, ": ")
		seen[msg] = true
	}
	for _, w := range validator {
		if _, msg, _ := strings.Cut(w, ": "); !seen[msg] {
			ours = append(ours, w)
		}
	}
	return ours
}

// encodedLen is the size Nova checks: its schema caps the base64 text.
func encodedLen(b []byte) int { return base64.StdEncoding.EncodedLen(len(b)) }

func tooLarge(spec *specInfo, m *model, plain int, final []byte, compressed bool, limit int) error {
	how := "nothing inline here can be compressed"
	if compressed {
		how = fmt.Sprintf("still %d bytes (%d base64-encoded) with gzip-compressed contents", len(final), encodedLen(final))
	}
	hint := ""
	if len(m.cas) > 0 && !spec.compressCAs {
		hint = fmt.Sprintf("; spec %s cannot compress CA certificates (3.1.0+ can)", spec.version)
	}
	return fmt.Errorf("%w: %d bytes (%d base64-encoded) against Nova's limit of %d base64-encoded bytes; %s%s. Serve the full config over HTTP(S) and render a small pointer config instead: replace (or merge) with its source URL and verification \"sha512-<hex of the served file>\"",
		ErrTooLarge, plain, base64.StdEncoding.EncodedLen(plain), limit, how, hint)
}
