package ansible

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Values flowing through validation are the generic JSON tree Ansible sees
// in Python: nil, bool, string, int (Python int), json.Number (a Python int
// beyond int64), float64, []any and map[string]any. The helpers here give
// them Python's semantics (str(), repr(), ==, type names) because Ansible's
// messages and checks are written in those terms.

// normalizeJSON turns json.Number leaves (from a UseNumber decoder) into int
// or float64 as Python's json.loads would, in place where possible.
func normalizeJSON(v any) any {
	switch t := v.(type) {
	case json.Number:
		return numberValue(string(t))
	case map[string]any:
		for k, e := range t {
			t[k] = normalizeJSON(e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = normalizeJSON(e)
		}
		return t
	}
	return v
}

// numberValue converts JSON number text: integer literals become int (or
// stay json.Number when they do not fit, as Python ints are unbounded),
// anything with a fraction or exponent becomes float64.
func numberValue(s string) any {
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return int(i)
		}
		return json.Number(s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRangeErr(err) {
		return json.Number(s)
	}
	return f // ±Inf on overflow, like Python's float('1e400')
}

func isRangeErr(err error) bool {
	return errors.Is(err, strconv.ErrRange)
}

// pyTypeName is str(type(v)) in Python, as Ansible puts it in messages.
func pyTypeName(v any) string {
	return "<class '" + pyClassName(v) + "'>"
}

// pyClassName is type(v).__name__.
func pyClassName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string:
		return "str"
	case int, int64, json.Number:
		return "int"
	case float64:
		return "float"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}

// pyStr is Python's str(v).
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

// pyRepr is Python's repr(v).
func pyRepr(v any) string {
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

func writeRepr(b *strings.Builder, v any) {
	switch t := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if t {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case string:
		b.WriteString(pyStringRepr(t))
	case int:
		b.WriteString(strconv.Itoa(t))
	case int64:
		b.WriteString(strconv.FormatInt(t, 10))
	case json.Number:
		b.WriteString(string(t))
	case float64:
		b.WriteString(pyFloatRepr(t))
	case []any:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		// Python keeps insertion order; a Go map has none, so keys are sorted.
		b.WriteByte('{')
		for i, k := range slices.Sorted(maps.Keys(t)) {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyStringRepr(k))
			b.WriteString(": ")
			writeRepr(b, t[k])
		}
		b.WriteByte('}')
	default:
		fmt.Fprint(b, t)
	}
}

// pyStringRepr quotes s as Python 3's repr() does.
func pyStringRepr(s string) string {
	quote := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for _, r := range s {
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x7f:
			b.WriteRune(r)
		case r == utf8.RuneError || !unicode.IsPrint(r):
			switch {
			case r < 0x100:
				fmt.Fprintf(&b, `\x%02x`, r)
			case r < 0x10000:
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				fmt.Fprintf(&b, `\U%08x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// pyFloatRepr is Python 3's repr(float): the shortest round-tripping digits,
// positional notation when the decimal exponent is in (-4, 16], a ".0" on
// integral values, and "e+XX"/"e-XX" otherwise.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // e.g. "-1.2345e+06"
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expStr, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1
	var out string
	if decpt > -4 && decpt <= 16 {
		switch {
		case decpt <= 0:
			out = "0." + strings.Repeat("0", -decpt) + digits
		case decpt >= len(digits):
			out = digits + strings.Repeat("0", decpt-len(digits)) + ".0"
		default:
			out = digits[:decpt] + "." + digits[decpt:]
		}
	} else {
		out = digits[:1]
		if len(digits) > 1 {
			out += "." + digits[1:]
		}
		sign := "+"
		if exp < 0 {
			sign = "-"
			exp = -exp
		}
		out += fmt.Sprintf("e%s%02d", sign, exp)
	}
	if neg {
		out = "-" + out
	}
	return out
}

// pyEqual is Python's == on JSON-like values: numbers and bools compare by
// value across types (True == 1 == 1.0), containers element-wise.
func pyEqual(a, b any) bool {
	if na, ok := pyNumber(a); ok {
		nb, ok := pyNumber(b)
		return ok && na.Cmp(nb) == 0
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !pyEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !pyEqual(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

// pyNumber gives the exact numeric value of a Python bool/int/float (NaN is
// not a number here: it equals nothing, as in Python).
func pyNumber(v any) (*big.Float, bool) {
	switch t := v.(type) {
	case bool:
		if t {
			return big.NewFloat(1), true
		}
		return big.NewFloat(0), true
	case int:
		return new(big.Float).SetInt64(int64(t)), true
	case int64:
		return new(big.Float).SetInt64(t), true
	case json.Number:
		i, ok := new(big.Int).SetString(string(t), 10)
		if !ok {
			return nil, false
		}
		return new(big.Float).SetInt(i), true
	case float64:
		if math.IsNaN(t) {
			return nil, false
		}
		return big.NewFloat(t), true
	}
	return nil, false
}

// pyIn is Python's `v in seq`.
func pyIn(v any, seq []any) bool {
	for _, e := range seq {
		if pyEqual(v, e) {
			return true
		}
	}
	return false
}

// pyIsSpace is Python's str.isspace() for one rune: Go's unicode.IsSpace
// plus the ASCII information separators Python also strips.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// pyStrip is Python's str.strip() with no arguments.
func pyStrip(s string) string {
	return strings.TrimFunc(s, pyIsSpace)
}
