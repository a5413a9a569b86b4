package ansible

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// The check_type_* functions of ansible/module_utils/common/validation.py.
// Each returns the coerced value or an error whose text is the Python
// exception's, which Ansible embeds in its own message.

// validBooleans is ", ".join(repr(i) for i in BOOLEANS): the order of a
// Python frozenset, which depends on PYTHONHASHSEED. This is the order
// ansible-core 2.14 prints with PYTHONHASHSEED=0 (any order is Ansible's).
const validBooleans = "0, 'y', 'true', 1, 'f', 'n', 'off', 't', '0', 'no', 'false', '1', 'on', 'yes'"

var (
	booleansTrue  = map[string]bool{"y": true, "yes": true, "on": true, "1": true, "true": true, "t": true}
	booleansFalse = map[string]bool{"n": true, "no": true, "off": true, "0": true, "false": true, "f": true}
)

// checkType dispatches to the checker for t.
func checkType(t Type, v any) (any, error) {
	switch t {
	case TypeStr, "":
		return checkStr(v), nil
	case TypeBool:
		return checkBool(v)
	case TypeInt:
		return checkInt(v)
	case TypeFloat:
		return checkFloat(v)
	case TypeList:
		return checkList(v)
	case TypeDict:
		return checkDict(v)
	case TypePath:
		return expandPath(checkStr(v)), nil
	case TypeRaw:
		return v, nil
	case TypeJSON:
		return checkJSONArg(v)
	}
	return nil, fmt.Errorf("unknown type %q", string(t))
}

// checkStr is check_type_str with conversion allowed: str(value).
func checkStr(v any) string {
	return pyStr(v)
}

// Boolean is the one boolean parser of the collection: Ansible's strict
// convert_bool.boolean (y/yes/on/1/true/t and their negations, any case,
// surrounding blanks ignored; 1 and 0; true and false), which openstacksdk's
// clouds.yaml spellings are a subset of.
func Boolean(v any) (bool, error) { return pyBoolean(v) }

// pyBoolean is ansible.module_utils.parsing.convert_bool.boolean (strict).
func pyBoolean(v any) (bool, error) {
	switch t := v.(type) {
	case bool:
		return t, nil
	case string:
		n := pyStrip(strings.ToLower(t))
		if booleansTrue[n] {
			return true, nil
		}
		if booleansFalse[n] {
			return false, nil
		}
	default:
		if pyEqual(v, 1) {
			return true, nil
		}
		if pyEqual(v, 0) {
			return false, nil
		}
	}
	return false, fmt.Errorf("The value '%s' is not a valid boolean.  Valid booleans include: %s", pyStr(v), validBooleans)
}

func checkBool(v any) (any, error) {
	switch v.(type) {
	case bool, string, int, int64, json.Number, float64:
		return pyBoolean(v)
	}
	return nil, fmt.Errorf("%s cannot be converted to a bool", pyTypeName(v))
}

func checkInt(v any) (any, error) {
	switch t := v.(type) {
	case bool, int, int64, json.Number:
		return v, nil // bool is an int in Python: check_type_int keeps True as True
	case string:
		if i, ok := pyParseInt(t); ok {
			return i, nil
		}
	}
	return nil, fmt.Errorf("%s cannot be converted to an int", pyTypeName(v))
}

func checkFloat(v any) (any, error) {
	switch t := v.(type) {
	case float64:
		return t, nil
	case bool:
		if t {
			return 1.0, nil
		}
		return 0.0, nil
	case int:
		return float64(t), nil
	case int64:
		return float64(t), nil
	case json.Number:
		f, _ := strconv.ParseFloat(string(t), 64)
		return f, nil
	case string:
		if f, ok := pyParseFloat(t); ok {
			return f, nil
		}
	}
	return nil, fmt.Errorf("%s cannot be converted to a float", pyTypeName(v))
}

func checkList(v any) (any, error) {
	switch t := v.(type) {
	case []any:
		return t, nil
	case string:
		parts := strings.Split(t, ",")
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	case bool, int, int64, json.Number, float64:
		return []any{pyStr(t)}, nil
	}
	return nil, fmt.Errorf("%s cannot be converted to a list", pyTypeName(v))
}

func checkJSONArg(v any) (any, error) {
	switch t := v.(type) {
	case string:
		return pyStrip(t), nil
	case []any, map[string]any:
		return pyJSONDumps(t), nil
	}
	return nil, fmt.Errorf("%s cannot be converted to a json string", pyTypeName(v))
}

var (
	errDictParse = errors.New("dictionary requested, could not parse JSON or key=value")
	errDictEval  = errors.New("unable to evaluate string as dictionary")
	// safe_eval returns strings that look like code unevaluated.
	safeEvalCall   = regexp.MustCompile(`\w\.\w+\(`)
	safeEvalImport = regexp.MustCompile(`import \w+`)
)

// checkDict is check_type_dict: a dict, a JSON (or Python literal) string
// starting with "{", or a k=v string.
func checkDict(v any) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		return t, nil
	case string:
		switch {
		case strings.HasPrefix(t, "{"):
			if d, err := pyJSONLoads(t); err == nil {
				return d, nil
			}
			if safeEvalCall.MatchString(t) || safeEvalImport.MatchString(t) {
				return t, nil // safe_eval hands such strings back unchanged
			}
			d, err := pyLiteralEval(t)
			if err != nil {
				return nil, errDictEval
			}
			return d, nil
		case strings.Contains(t, "="):
			return parseKeyValues(t)
		}
		return nil, errDictParse
	}
	return nil, fmt.Errorf("%s cannot be converted to a dict", pyTypeName(v))
}

// parseKeyValues is the k=v branch of check_type_dict: fields split on
// commas and spaces outside quotes, backslash escapes the next character.
func parseKeyValues(s string) (any, error) {
	var fields []string
	var buf strings.Builder
	var inQuote rune
	inEscape := false
	for _, c := range pyStrip(s) {
		switch {
		case inEscape:
			buf.WriteRune(c)
			inEscape = false
		case c == '\\':
			inEscape = true
		case inQuote == 0 && (c == '\'' || c == '"'):
			inQuote = c
		case inQuote != 0 && inQuote == c:
			inQuote = 0
		case inQuote == 0 && (c == ',' || c == ' '):
			if buf.Len() > 0 {
				fields = append(fields, buf.String())
			}
			buf.Reset()
		default:
			buf.WriteRune(c)
		}
	}
	if buf.Len() > 0 {
		fields = append(fields, buf.String())
	}
	out := make(map[string]any, len(fields))
	for i, f := range fields {
		k, val, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("dictionary update sequence element #%d has length 1; 2 is required", i)
		}
		out[k] = val
	}
	return out, nil
}

// pyJSONLoads is json.loads for a string that must hold one JSON value.
func pyJSONLoads(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("extra data")
	}
	return normalizeJSON(v), nil
}

var (
	pyIntDigits   = regexp.MustCompile(`^[0-9](?:_?[0-9])*$`)
	pyFloatSyntax = regexp.MustCompile(`^(?:[0-9](?:_?[0-9])*(?:\.(?:[0-9](?:_?[0-9])*)?)?|\.[0-9](?:_?[0-9])*)(?:[eE][+-]?[0-9](?:_?[0-9])*)?$`)
)

// pyParseInt is Python's int(str): surrounding whitespace, a sign, and
// underscores between digits are accepted; the result is int, or
// json.Number when it exceeds int64.
func pyParseInt(s string) (any, bool) {
	s = pyStrip(s)
	sign := ""
	if strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-") {
		sign, s = s[:1], s[1:]
	}
	if !pyIntDigits.MatchString(s) {
		return nil, false
	}
	digits := sign + strings.ReplaceAll(s, "_", "")
	if i, err := strconv.ParseInt(digits, 10, 64); err == nil {
		return int(i), true
	}
	b, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return nil, false
	}
	return json.Number(b.String()), true
}

// pyParseFloat is Python's float(str): no hex, "inf"/"infinity"/"nan" in
// any case, underscores between digits.
func pyParseFloat(s string) (float64, bool) {
	s = pyStrip(s)
	neg := false
	body := s
	if strings.HasPrefix(body, "+") || strings.HasPrefix(body, "-") {
		neg = body[0] == '-'
		body = body[1:]
	}
	switch strings.ToLower(body) {
	case "inf", "infinity":
		if neg {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	case "nan":
		return math.NaN(), true
	}
	if !pyFloatSyntax.MatchString(body) {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(body, "_", ""), 64)
	if err != nil && !isRangeErr(err) {
		return 0, false
	}
	if neg {
		f = -f
	}
	return f, true
}
