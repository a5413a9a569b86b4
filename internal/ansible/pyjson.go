package ansible

import (
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
)

// A JSON encoder for the generic value tree that writes what Python's
// json.dumps writes: ASCII only (\uXXXX escapes), floats as repr() (4.0,
// 1e+16), NaN/Infinity literals, no HTML escaping. Keys are sorted (Python
// would keep insertion order). It cannot fail, so a result always prints.

// pyJSONDumps is json.dumps(v) with Python's default ", " and ": " separators.
func pyJSONDumps(v any) string {
	return string(appendPyJSON(nil, v, true))
}

// appendPyJSON appends v as JSON; spaced selects Python's default separators.
func appendPyJSON(b []byte, v any, spaced bool) []byte {
	switch t := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		if t {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case string:
		return appendPyJSONString(b, t)
	case int:
		return strconv.AppendInt(b, int64(t), 10)
	case int64:
		return strconv.AppendInt(b, t, 10)
	case json.Number:
		return append(b, t...)
	case float64:
		switch {
		case math.IsNaN(t):
			return append(b, "NaN"...)
		case math.IsInf(t, 1):
			return append(b, "Infinity"...)
		case math.IsInf(t, -1):
			return append(b, "-Infinity"...)
		}
		return append(b, pyFloatRepr(t)...)
	case []any:
		b = append(b, '[')
		for i, e := range t {
			if i > 0 {
				b = appendSep(b, ',', spaced)
			}
			b = appendPyJSON(b, e, spaced)
		}
		return append(b, ']')
	case map[string]any:
		b = append(b, '{')
		for i, k := range slices.Sorted(maps.Keys(t)) {
			if i > 0 {
				b = appendSep(b, ',', spaced)
			}
			b = appendPyJSONString(b, k)
			b = appendSep(b, ':', spaced)
			b = appendPyJSON(b, t[k], spaced)
		}
		return append(b, '}')
	}
	// Not reachable for normalized trees; keep the output valid JSON anyway.
	return appendPyJSONString(b, pyStr(v))
}

func appendSep(b []byte, c byte, spaced bool) []byte {
	b = append(b, c)
	if spaced {
		b = append(b, ' ')
	}
	return b
}

const hexDigits = "0123456789abcdef"

func appendPyJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range s { // invalid UTF-8 arrives as U+FFFD
		switch {
		case r == '"':
			b = append(b, '\\', '"')
		case r == '\\':
			b = append(b, '\\', '\\')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r >= 0x20 && r < 0x7f:
			b = append(b, byte(r))
		case r < 0x10000:
			b = appendU(b, r)
		default:
			r -= 0x10000
			b = appendU(b, 0xd800|(r>>10)&0x3ff)
			b = appendU(b, 0xdc00|r&0x3ff)
		}
	}
	return append(b, '"')
}

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}
