package ansible

import (
	"encoding/json"
	"errors"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// pyLiteralEval is the part of Python's ast.literal_eval that check_type_dict
// reaches when a "{..." string is not JSON (e.g. "{'a': 1, 'b': True}"):
// dicts, lists, tuples and sets (both as lists), strings, ints (also 0x/0o/0b),
// floats, True/False/None, unary signs, # comments. Anything else is an error.
func pyLiteralEval(s string) (any, error) {
	p := &litParser{s: strings.TrimLeft(s, " \t")}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return nil, errLiteral
	}
	return v, nil
}

var errLiteral = errors.New("malformed literal")

type litParser struct {
	s string
	i int
}

func (p *litParser) skipSpace() {
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			p.i++
		case c == '\\' && strings.HasPrefix(p.s[p.i:], "\\\n"):
			p.i += 2
		case c == '#':
			for p.i < len(p.s) && p.s[p.i] != '\n' {
				p.i++
			}
		default:
			return
		}
	}
}

func (p *litParser) peek() byte {
	p.skipSpace()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *litParser) value() (any, error) {
	switch c := p.peek(); {
	case c == '{':
		return p.dictOrSet()
	case c == '[':
		p.i++
		return p.sequence(']')
	case c == '(':
		p.i++
		return p.tuple()
	case c == '+' || c == '-':
		p.i++
		if d := p.peek(); d != '.' && (d < '0' || d > '9') {
			return nil, errLiteral // literal_eval signs numbers only
		}
		v, err := p.number()
		if err != nil {
			return nil, err
		}
		return negate(v, c == '-')
	case c == '.' || (c >= '0' && c <= '9'):
		return p.number()
	case c == '\'' || c == '"':
		return p.strings()
	case isIdentStart(c):
		start := p.i
		for p.i < len(p.s) && (isIdentStart(p.s[p.i]) || (p.s[p.i] >= '0' && p.s[p.i] <= '9')) {
			p.i++
		}
		word := p.s[start:p.i]
		switch word {
		case "True":
			return true, nil
		case "False":
			return false, nil
		case "None":
			return nil, nil
		}
		if isStringPrefix(word) && p.i < len(p.s) && (p.s[p.i] == '\'' || p.s[p.i] == '"') {
			p.i = start
			return p.strings()
		}
	}
	return nil, errLiteral
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isStringPrefix(w string) bool {
	switch strings.ToLower(w) {
	case "r", "u", "b", "br", "rb":
		return true
	}
	return false
}

func negate(v any, neg bool) (any, error) {
	switch t := v.(type) {
	case int:
		if neg {
			return -t, nil
		}
		return t, nil
	case json.Number:
		if neg {
			b, _ := new(big.Int).SetString(string(t), 10)
			return json.Number(b.Neg(b).String()), nil
		}
		return t, nil
	case float64:
		if neg {
			return -t, nil
		}
		return t, nil
	}
	return nil, errLiteral
}

// sequence parses items up to close; a trailing comma is allowed.
func (p *litParser) sequence(close byte) ([]any, error) {
	out := []any{}
	for {
		if p.peek() == close {
			p.i++
			return out, nil
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		switch p.peek() {
		case ',':
			p.i++
		case close:
			p.i++
			return out, nil
		default:
			return nil, errLiteral
		}
	}
}

func (p *litParser) tuple() (any, error) {
	if p.peek() == ')' {
		p.i++
		return []any{}, nil
	}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	switch p.peek() {
	case ')': // a parenthesized value, not a tuple
		p.i++
		return v, nil
	case ',':
		p.i++
		rest, err := p.sequence(')')
		if err != nil {
			return nil, err
		}
		return append([]any{v}, rest...), nil
	}
	return nil, errLiteral
}

func (p *litParser) dictOrSet() (any, error) {
	p.i++ // '{'
	if p.peek() == '}' {
		p.i++
		return map[string]any{}, nil
	}
	first, err := p.value()
	if err != nil {
		return nil, err
	}
	if p.peek() != ':' {
		// A set: Ansible's JSON fallback turns sets into lists.
		items := []any{first}
		switch p.peek() {
		case '}':
			p.i++
			return items, nil
		case ',':
			p.i++
			rest, err := p.sequence('}')
			if err != nil {
				return nil, err
			}
			for _, r := range rest {
				if !pyIn(r, items) {
					items = append(items, r)
				}
			}
			return items, nil
		}
		return nil, errLiteral
	}
	out := map[string]any{}
	key := first
	for {
		p.i++ // ':'
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		k, err := jsonKey(key)
		if err != nil {
			return nil, err
		}
		out[k] = v
		switch p.peek() {
		case '}':
			p.i++
			return out, nil
		case ',':
			p.i++
			if p.peek() == '}' {
				p.i++
				return out, nil
			}
		default:
			return nil, errLiteral
		}
		if key, err = p.value(); err != nil {
			return nil, err
		}
		if p.peek() != ':' {
			return nil, errLiteral
		}
	}
}

// jsonKey is how json.dumps writes a non-string dict key.
func jsonKey(k any) (string, error) {
	switch t := k.(type) {
	case string:
		return t, nil
	case bool:
		if t {
			return "true", nil
		}
		return "false", nil
	case nil:
		return "null", nil
	case int, json.Number, float64:
		return string(appendPyJSON(nil, t, false)), nil
	}
	return "", errLiteral // unhashable or not a JSON key
}

func (p *litParser) number() (any, error) {
	start := p.i
	s := p.s
	if strings.HasPrefix(s[start:], "0x") || strings.HasPrefix(s[start:], "0X") ||
		strings.HasPrefix(s[start:], "0o") || strings.HasPrefix(s[start:], "0O") ||
		strings.HasPrefix(s[start:], "0b") || strings.HasPrefix(s[start:], "0B") {
		p.i += 2
		for p.i < len(s) && (isHexDigit(s[p.i]) || s[p.i] == '_') {
			p.i++
		}
		i, err := strconv.ParseInt(s[start:p.i], 0, 64) // Go accepts the same prefixes and underscores
		if err != nil {
			b, ok := new(big.Int).SetString(s[start:p.i], 0)
			if !ok {
				return nil, errLiteral
			}
			return json.Number(b.String()), nil
		}
		return int(i), nil
	}
	for p.i < len(s) && strings.IndexByte("0123456789_.eE", s[p.i]) >= 0 {
		if (s[p.i] == 'e' || s[p.i] == 'E') && p.i+1 < len(s) && (s[p.i+1] == '+' || s[p.i+1] == '-') {
			p.i++
		}
		p.i++
	}
	if p.i < len(s) && (s[p.i] == 'j' || s[p.i] == 'J' || isIdentStart(s[p.i])) {
		return nil, errLiteral // complex numbers and junk
	}
	lit := s[start:p.i]
	if !strings.ContainsAny(lit, ".eE") {
		digits := strings.TrimLeft(lit, "0_")
		if digits != "" && len(digits) != len(lit) {
			return nil, errLiteral // Python 3 rejects leading zeros: 012
		}
		if v, ok := pyParseInt(lit); ok && !strings.HasPrefix(lit, "_") {
			return v, nil
		}
		return nil, errLiteral
	}
	if f, ok := pyParseFloat(lit); ok && !strings.HasPrefix(lit, "_") {
		return f, nil
	}
	return nil, errLiteral
}

func isHexDigit(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// strings parses one or more adjacent string literals ('a' "b" -> "ab").
func (p *litParser) strings() (any, error) {
	var out strings.Builder
	for n := 0; ; n++ {
		p.skipSpace()
		start := p.i
		for p.i < len(p.s) && isIdentStart(p.s[p.i]) {
			p.i++
		}
		prefix := strings.ToLower(p.s[start:p.i])
		if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') || (prefix != "" && !isStringPrefix(prefix)) {
			if n == 0 {
				return nil, errLiteral
			}
			p.i = start
			return out.String(), nil
		}
		s, err := p.stringBody(strings.Contains(prefix, "r"))
		if err != nil {
			return nil, err
		}
		out.WriteString(s)
	}
}

func (p *litParser) stringBody(raw bool) (string, error) {
	q := p.s[p.i : p.i+1]
	if strings.HasPrefix(p.s[p.i:], strings.Repeat(q, 3)) {
		q = strings.Repeat(q, 3)
	}
	p.i += len(q)
	var b strings.Builder
	for {
		if p.i >= len(p.s) {
			return "", errLiteral
		}
		if strings.HasPrefix(p.s[p.i:], q) {
			p.i += len(q)
			return b.String(), nil
		}
		c := p.s[p.i]
		if c == '\n' && len(q) == 1 {
			return "", errLiteral
		}
		if c != '\\' || p.i+1 >= len(p.s) {
			r, size := utf8.DecodeRuneInString(p.s[p.i:])
			b.WriteRune(r)
			p.i += size
			continue
		}
		if raw {
			b.WriteString(p.s[p.i : p.i+2])
			p.i += 2
			continue
		}
		p.i++
		e := p.s[p.i]
		p.i++
		switch e {
		case '\n':
		case '\\', '\'', '"':
			b.WriteByte(e)
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if p.i+n > len(p.s) {
				return "", errLiteral
			}
			r, err := strconv.ParseUint(p.s[p.i:p.i+n], 16, 32)
			if err != nil {
				return "", errLiteral
			}
			b.WriteRune(rune(r))
			p.i += n
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := p.i - 1
			for p.i < len(p.s) && p.i-j < 3 && p.s[p.i] >= '0' && p.s[p.i] <= '7' {
				p.i++
			}
			r, _ := strconv.ParseUint(p.s[j:p.i], 8, 32)
			b.WriteRune(rune(r))
		default: // unknown escapes keep their backslash
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
}
