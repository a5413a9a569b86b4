package image

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// Checksum is one expected digest: of the download or of the uncompressed
// image, whichever it matches.
type Checksum struct {
	Algo string // sha256 or sha512
	Hex  string // lower case
}

func (c Checksum) String() string { return c.Algo + ":" + c.Hex }

var checksumLen = map[string]int{"sha256": 64, "sha512": 128}

// ParseChecksums reads the checksum option: each entry `sha256:<hex>` or
// `sha512:<hex>`.
func ParseChecksums(entries []string) ([]Checksum, error) {
	var out []Checksum
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		algo, val, ok := strings.Cut(e, ":")
		algo = strings.ToLower(strings.TrimSpace(algo))
		val = strings.ToLower(strings.TrimSpace(val))
		n, known := checksumLen[algo]
		if !ok || !known {
			return nil, fmt.Errorf("checksum: %q is not ALGO:HEX with ALGO sha256 or sha512", e)
		}
		if _, err := hex.DecodeString(val); err != nil || len(val) != n {
			return nil, fmt.Errorf("checksum: the %s value must be %d hex digits, got %q", algo, n, val)
		}
		out = append(out, Checksum{Algo: algo, Hex: val})
	}
	if len(out) > 2 {
		return nil, fmt.Errorf("checksum: at most two values (one of the download, one of the image), got %d", len(out))
	}
	return out, nil
}

// Digests are the sums and sizes of one pass.
type Digests struct {
	SourceSHA256 string // of the bytes as downloaded
	SourceSHA512 string // of the bytes as downloaded, only when asked for
	ImageSHA256  string // of the uncompressed image
	ImageSHA512  string // of the uncompressed image (Glance's default os_hash_algo)
	BytesIn      int64  // downloaded
	BytesOut     int64  // uncompressed, uploaded
}

// matches tells whether c equals the download's or the image's digest.
func (d Digests) matches(c Checksum) bool {
	switch c.Algo {
	case "sha256":
		return c.Hex == d.SourceSHA256 || c.Hex == d.ImageSHA256
	case "sha512":
		return c.Hex == d.SourceSHA512 || c.Hex == d.ImageSHA512
	}
	return false
}

// Verify checks every expected checksum; the error names both sums.
func (d Digests) Verify(want []Checksum) error {
	for _, c := range want {
		if d.matches(c) {
			continue
		}
		got := fmt.Sprintf("the download has sha256:%s and the image sha256:%s", d.SourceSHA256, d.ImageSHA256)
		if c.Algo == "sha512" {
			got = fmt.Sprintf("the download has sha512:%s and the image sha512:%s", d.SourceSHA512, d.ImageSHA512)
			if d.SourceSHA512 == "" {
				got = fmt.Sprintf("the image has sha512:%s", d.ImageSHA512)
			}
		}
		return &ChecksumError{Want: c, Got: got}
	}
	return nil
}

// ChecksumError is a checksum mismatch.
type ChecksumError struct {
	Want Checksum
	Got  string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("checksum mismatch: expected %s, but %s", e.Want, e.Got)
}

func wantsSourceSHA512(want []Checksum) bool {
	for _, c := range want {
		if c.Algo == "sha512" {
			return true
		}
	}
	return false
}
