package ansible

import (
	"os"
	"os/user"
	"regexp"
	"strings"
)

// expandVarRef is posixpath's _varprog: $name or ${anything}, ASCII \w.
var expandVarRef = regexp.MustCompile(`\$([A-Za-z0-9_]+|\{[^}]*\})`)

// expandPath is check_type_path: os.path.expanduser(os.path.expandvars(v)).
func expandPath(v string) string {
	return expandUser(expandVars(v))
}

// expandVars is posixpath.expandvars: unknown variables stay as written
// (unlike os.ExpandEnv, which drops them).
func expandVars(path string) string {
	if !strings.Contains(path, "$") {
		return path
	}
	i := 0
	for {
		loc := expandVarRef.FindStringSubmatchIndex(path[i:])
		if loc == nil {
			return path
		}
		start, end := i+loc[0], i+loc[1]
		name := path[i+loc[2] : i+loc[3]]
		if strings.HasPrefix(name, "{") && strings.HasSuffix(name, "}") {
			name = name[1 : len(name)-1]
		}
		value, ok := os.LookupEnv(name)
		if !ok {
			i = end
			continue
		}
		tail := path[end:]
		path = path[:start] + value
		i = len(path)
		path += tail
	}
}

// expandUser is posixpath.expanduser: "~" is $HOME (or the passwd entry of
// the current user), "~name" the home of name; unknown users stay as written.
func expandUser(path string) string {
	if !strings.HasPrefix(path, "~") {
		return path
	}
	i := strings.IndexByte(path[1:], '/') + 1
	if i == 0 {
		i = len(path)
	}
	var home string
	if i == 1 {
		if h, ok := os.LookupEnv("HOME"); ok {
			home = h
		} else if u, err := user.Current(); err == nil {
			home = u.HomeDir
		} else {
			return path
		}
	} else {
		u, err := user.Lookup(path[1:i])
		if err != nil {
			return path
		}
		home = u.HomeDir
	}
	home = strings.TrimRight(home, "/")
	if out := home + path[i:]; out != "" {
		return out
	}
	return "/"
}
