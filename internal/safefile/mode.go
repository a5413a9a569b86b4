package safefile

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// ParseMode reads a file mode option as Ansible's file modules do: an int
// is the mode bits themselves (YAML reads an unquoted 0640 as the octal
// number 416, which is 0o640), a string is octal ("0640", "640",
// "0o640") or symbolic ("u=rw,g=r").
func ParseMode(option string, v any) (fs.FileMode, error) {
	bad := func() (fs.FileMode, error) {
		return 0, fmt.Errorf("%s: %v is not a file mode, expected an octal string such as \"0600\", a symbolic one such as \"u=rw\", or the number YAML makes of an unquoted 0600", option, v)
	}
	switch t := v.(type) {
	case int:
		if t < 0 || t > 0o7777 {
			return bad()
		}
		return fs.FileMode(t), nil
	case float64:
		if t != float64(int(t)) {
			return bad()
		}
		return ParseMode(option, int(t))
	case string:
		s := strings.TrimSpace(t)
		if n, err := strconv.ParseUint(strings.TrimPrefix(s, "0o"), 8, 32); err == nil && s != "" {
			if n > 0o7777 {
				return bad()
			}
			return fs.FileMode(n), nil
		}
		if m, ok := symbolic(s); ok {
			return m, nil
		}
	}
	return bad()
}

// symbolic reads "u=rw,g=r,o=" style modes (from nothing: there is no
// existing mode to change), the subset chmod's = + - with r w x.
func symbolic(s string) (fs.FileMode, bool) {
	var mode fs.FileMode
	for _, clause := range strings.Split(s, ",") {
		i := strings.IndexAny(clause, "=+-")
		if i < 0 {
			return 0, false
		}
		who, op, perms := clause[:i], clause[i], clause[i+1:]
		var mask fs.FileMode
		for _, w := range who {
			switch w {
			case 'u':
				mask |= 0o700
			case 'g':
				mask |= 0o070
			case 'o':
				mask |= 0o007
			case 'a':
				mask |= 0o777
			default:
				return 0, false
			}
		}
		if who == "" {
			mask = 0o777
		}
		var bits fs.FileMode
		for _, p := range perms {
			switch p {
			case 'r':
				bits |= 0o444
			case 'w':
				bits |= 0o222
			case 'x':
				bits |= 0o111
			default:
				return 0, false
			}
		}
		switch op {
		case '=':
			mode = mode&^mask | bits&mask
		case '+':
			mode |= bits & mask
		case '-':
			mode &^= bits & mask
		}
	}
	return mode, true
}
