package enroll

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/metalkit/baremetal/internal/decoded"
)

// scalarString reads a string, number or boolean as text: instackenv files
// carry numbers as strings or numbers, and Ansible may hand either.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), true
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(x), true
	}
	return "", false
}

// isNumber tells whether v is a number (not a numeric string).
func isNumber(v any) bool {
	switch v.(type) {
	case json.Number, float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return true
	}
	return false
}

// intOf reads a whole number given as a number or a numeric string.
func intOf(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, false
		}
		return int64(x), true
	case json.Number:
		return intOf(string(x))
	case string:
		s := strings.TrimSpace(x)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, true
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f), true
		}
	}
	return 0, false
}

// canonical rebuilds decoded JSON/YAML values (string-keyed maps, see
// decoded.MapLeaves) with canonicalNumber at the leaves, so that sameValue
// sees one representation on both sides.
func canonical(v any) any { return decoded.MapLeaves(v, canonicalNumber) }

// canonicalNumber is canonical's leaf: a whole number becomes int64, any
// other number float64 (a json.Number beyond float64 keeps its text);
// strings, bools and nil keep their type. It differs from
// internal/openstack's configText on purpose: enroll compares the operator's
// values with what Ironic returns, where 4096, 4096.0 and json.Number("4096")
// are one number but a number, a string and a boolean are not the same
// kind of value (sameValue decides how loosely those compare).
func canonicalNumber(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String()
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32:
		if n, ok := intOf(x); ok {
			return n
		}
		f, _ := strconv.ParseFloat(fmt.Sprint(x), 64)
		return f
	case float64:
		if n, ok := intOf(x); ok {
			return n
		}
		return x
	}
	return v
}

// sameValue compares a desired value with what Ironic returned, loosely
// where instackenv is loose: 4096 and "4096" are the same memory size, and
// JSON numbers decode as float64 on one side and int64 on the other.
func sameValue(desired, observed any) bool {
	d, o := canonical(desired), canonical(observed)
	if reflect.DeepEqual(d, o) {
		return true
	}
	ds, dok := scalarString(d)
	os, ook := scalarString(o)
	if dok && ook && (isNumber(d) || isNumber(o)) {
		return ds == os
	}
	dm, dIsMap := d.(map[string]any)
	om, oIsMap := o.(map[string]any)
	if dIsMap && oIsMap && len(dm) == len(om) {
		for k, v := range dm {
			ov, ok := om[k]
			if !ok || !sameValue(v, ov) {
				return false
			}
		}
		return true
	}
	dl, dIsList := d.([]any)
	ol, oIsList := o.([]any)
	if dIsList && oIsList && len(dl) == len(ol) {
		for i := range dl {
			if !sameValue(dl[i], ol[i]) {
				return false
			}
		}
		return true
	}
	return false
}

// pointerEscape escapes one JSON-pointer path segment (RFC 6901).
func pointerEscape(key string) string {
	return strings.ReplaceAll(strings.ReplaceAll(key, "~", "~0"), "/", "~1")
}
