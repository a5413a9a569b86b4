package secret

import (
	"encoding/base64"
	"regexp"
	"strings"
)

// minFragment is the size of the smallest piece of a long secret (user
// data, a key) that is masked when it shows up base64-encoded on its own: a
// service that quotes the first part of a request body, or a line of it.
const minFragment = 16

// base64Candidate is a run of base64 text long enough to carry minFragment
// bytes.
var base64Candidate = regexp.MustCompile(`[A-Za-z0-9+/_-]{22,}={0,2}`)

// maskFragments masks every base64 run in s that decodes, at any of its
// four alignments, to minFragment bytes or more of a long secret.
func maskFragments(s string, long []string) string {
	if !base64Candidate.MatchString(s) {
		return s
	}
	return base64Candidate.ReplaceAllStringFunc(s, func(run string) string {
		if holdsFragment(run, long) {
			return Masked
		}
		return run
	})
}

func holdsFragment(run string, long []string) bool {
	run = strings.TrimRight(run, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		for start := 0; start < 4 && start < len(run); start++ {
			body := run[start:]
			body = body[:len(body)/4*4] // whole quanta only: no partial bytes
			b, err := enc.DecodeString(body)
			if err != nil || len(b) < minFragment {
				continue
			}
			for _, v := range long {
				if strings.Contains(v, string(b)) {
					return true
				}
			}
		}
	}
	return false
}
