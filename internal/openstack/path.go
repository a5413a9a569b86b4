package openstack

import (
	"fmt"
	"net/url"
	"strings"
)

// PathSegment escapes a name or ID taken from input for use as one URL path
// segment. gophercloud joins the segments it is given into the URL as they
// are, so "x?y=1" or "n#" would cut the path and "a/b" or "../ports" would
// name another resource. '?', '#', '%' and the like are escaped; '.', '..'
// and a value holding '/' are refused, as no escaping saves them (servers
// resolve dot segments, and WSGI servers decode %2F before routing). The
// error does not name the option: callers prefix it.
//
// The transport refuses such paths too (guard.go), for any call site that
// forgot.
func PathSegment(value string) (string, error) {
	switch {
	case value == "":
		return "", fmt.Errorf("is empty, expected a name or ID")
	case value == "." || value == "..":
		return "", fmt.Errorf("%q cannot be used in a URL path (a dot segment), expected a name or ID", value)
	case strings.Contains(value, "/"):
		return "", fmt.Errorf("%q cannot be used in a URL path (it holds '/'), expected a name or ID", value)
	}
	return url.PathEscape(value), nil
}

// unsafePath tells why a request path would reach another resource than
// the one its segments name: a dot segment, or an escaped slash.
func unsafePath(u *url.URL) string {
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return "a '" + seg + "' segment"
		}
	}
	if strings.Contains(strings.ToLower(u.EscapedPath()), "%2f") {
		return "an escaped '/'"
	}
	return ""
}
