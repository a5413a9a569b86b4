package openstack

import (
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/tidwall/gjson"

	"github.com/metalkit/baremetal/internal/secret"
)

// Masked replaces a secret inside a longer string, as Ansible does.
const Masked = secret.Masked

// RegisterSecret adds values that Scrub and Describe must always hide, to
// the process's one registry (package secret).
func RegisterSecret(values ...string) { secret.Add(values...) }

// Scrub replaces every secret (those given and those registered) in s, in
// every spelling the registry knows (JSON-escaped, URL-encoded, base64).
func Scrub(s string, extra ...string) string { return secret.ScrubWith(s, extra...) }

// basicAuthSecret is what an Authorization: Basic header carries.
func basicAuthSecret(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}

// APIError is an OpenStack failure told in the operator's words:
// "<resource>: <service's message> (HTTP 409)". Its text is scrubbed.
type APIError struct {
	Resource   string
	StatusCode int // 0 when no HTTP answer came (connection, timeout)
	Message    string
	// Attempts is how many tries were made when retries ran out (0: no retry).
	Attempts uint
	cause    error
}

func (e *APIError) Error() string {
	var b strings.Builder
	if e.Resource != "" {
		b.WriteString(e.Resource)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	var tail []string
	if e.StatusCode != 0 {
		tail = append(tail, fmt.Sprintf("HTTP %d", e.StatusCode))
	}
	if e.Attempts > 1 {
		tail = append(tail, fmt.Sprintf("after %d attempts", e.Attempts))
	}
	if len(tail) > 0 {
		b.WriteString(" (" + strings.Join(tail, ", ") + ")")
	}
	return b.String()
}

// Unwrap gives the cause, with any HTTP body scrubbed, so errors.Is/As and
// gophercloud.ResponseCodeIs keep working.
func (e *APIError) Unwrap() error { return e.cause }

// Describe turns err into an *APIError naming resource and carrying the
// service's own message (Ironic faultstring, Nova/Keystone/Neutron message,
// Placement detail, Glance's HTML text), with every secret scrubbed.
// nil stays nil; an *APIError is re-labelled only when resource is new.
func Describe(err error, resource string) error {
	if err == nil {
		return nil
	}
	var prev *APIError
	if errors.As(err, &prev) {
		if resource == "" || resource == prev.Resource {
			return prev
		}
		c := *prev
		if c.Resource != "" {
			c.Resource = resource + ": " + c.Resource
		} else {
			c.Resource = resource
		}
		return &c
	}
	e := &APIError{Resource: resource, cause: err}

	var exhausted *RetriesExhaustedError
	if errors.As(err, &exhausted) {
		e.Attempts = exhausted.Attempts
	}
	var reauth gophercloud.ErrUnableToReauthenticate
	if errors.As(err, &reauth) {
		inner := Describe(reauth.ErrReauth, "")
		e.Message = "re-authentication failed: " + inner.Error()
		e.cause = inner
		return e
	}
	var code gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &code) {
		e.StatusCode = code.Actual
		e.Message = Scrub(ServiceMessage(code.Body, code.Actual))
		clean := code
		clean.Body = []byte(Scrub(string(code.Body)))
		clean.URL = Scrub(code.URL)
		e.cause = clean
		if exhausted != nil {
			e.cause = &RetriesExhaustedError{Err: clean, Attempts: exhausted.Attempts, Reason: exhausted.Reason}
		}
		return e
	}
	msg := err.Error()
	if exhausted != nil {
		// APIError tells the attempts itself.
		msg = strings.Replace(msg, exhausted.suffix(), "", 1)
	}
	e.Message = Scrub(msg)
	e.cause = scrubbedError{msg: e.Message, err: err}
	return e
}

// scrubbedError hides a cause's text while keeping errors.Is working on
// sentinel errors such as context.DeadlineExceeded.
type scrubbedError struct {
	msg string
	err error
}

func (s scrubbedError) Error() string { return s.msg }
func (s scrubbedError) Is(target error) bool {
	return errors.Is(s.err, target)
}

// As reaches typed causes (*url.Error, *RetriesExhaustedError, ...): only
// HTTP bodies echo secrets, and those never take this path.
func (s scrubbedError) As(target any) bool {
	return errors.As(s.err, target)
}

var (
	htmlTag = regexp.MustCompile(`(?s)<[^>]*>`)
	spaces  = regexp.MustCompile(`\s+`)
	brTag   = regexp.MustCompile(`(?i)<br\s*/?>`)
)

// maxMessage bounds how much of an unknown body is quoted.
const maxMessage = 1000

// ServiceMessage extracts the human message from an OpenStack error body.
func ServiceMessage(body []byte, status int) string {
	s := strings.TrimSpace(string(body))
	if s == "" {
		return statusText(status)
	}
	if gjson.Valid(s) {
		if m := cleanMessage(jsonMessage(gjson.Parse(s))); m != "" {
			return m
		}
	}
	return textMessage(s, status)
}

func jsonMessage(r gjson.Result) string {
	// Ironic: error_message is a JSON document in a string (or, in some
	// releases, an object) with faultstring.
	if em := r.Get("error_message"); em.Exists() {
		inner := em
		if em.Type == gjson.String && gjson.Valid(em.String()) {
			inner = gjson.Parse(em.String())
		}
		if f := inner.Get("faultstring"); f.Exists() && f.String() != "" {
			return strings.TrimSpace(f.String())
		}
		if em.Type == gjson.String {
			return strings.TrimSpace(em.String())
		}
	}
	if f := r.Get("faultstring"); f.String() != "" {
		return strings.TrimSpace(f.String())
	}
	// Placement: {"errors": [{"title", "detail"}]}.
	if errs := r.Get("errors"); errs.IsArray() {
		var parts []string
		for _, e := range errs.Array() {
			d := strings.TrimSpace(e.Get("detail").String())
			// Placement prefixes the webob boilerplate; keep the last paragraph.
			if i := strings.LastIndex(d, "\n\n"); i >= 0 {
				d = strings.TrimSpace(d[i+2:])
			}
			if d == "" {
				d = e.Get("title").String()
			}
			if d != "" {
				parts = append(parts, d)
			}
		}
		if len(parts) > 0 {
			return strings.Join(parts, "; ")
		}
	}
	// Top-level message-like keys (Glance JSON, generic).
	for _, k := range []string{"message", "detail", "description", "error_description"} {
		if v := r.Get(k); v.Type == gjson.String && v.String() != "" {
			return strings.TrimSpace(v.String())
		}
	}
	// Nova {"badRequest": {"message"}}, Keystone {"error": {"message"}},
	// Neutron {"NeutronError": {"message"}}: one wrapping object.
	var found string
	r.ForEach(func(_, v gjson.Result) bool {
		if !v.IsObject() {
			return true
		}
		for _, k := range []string{"message", "detail", "title"} {
			if m := v.Get(k); m.Type == gjson.String && m.String() != "" {
				found = strings.TrimSpace(m.String())
				return false
			}
		}
		return true
	})
	if found != "" {
		return found
	}
	if r.Type == gjson.String {
		return strings.TrimSpace(r.String())
	}
	return truncate(r.Raw)
}

// cleanMessage drops the <br /> webob puts in JSON messages (Glance) and
// folds whitespace; other "<...>" text is kept: it may be meant.
func cleanMessage(s string) string {
	return strings.TrimSpace(spaces.ReplaceAllString(brTag.ReplaceAllString(s, " "), " "))
}

// textMessage reads text and webob's HTML error pages (Glance): the text
// after the <h1>, tags stripped, without the leading status line.
func textMessage(s string, status int) string {
	if i := strings.Index(strings.ToLower(s), "</h1>"); i >= 0 {
		if rest := strings.TrimSpace(htmlTag.ReplaceAllString(s[i+len("</h1>"):], " ")); rest != "" {
			s = s[i+len("</h1>"):]
		}
	}
	s = strings.TrimSpace(spaces.ReplaceAllString(html.UnescapeString(htmlTag.ReplaceAllString(s, " ")), " "))
	// webob's text errors start with the status line, sometimes twice.
	prefix := fmt.Sprintf("%d %s", status, http.StatusText(status))
	for {
		rest, ok := strings.CutPrefix(s, prefix)
		if !ok || strings.TrimSpace(rest) == "" {
			break
		}
		s = strings.TrimSpace(rest)
	}
	if s == "" {
		return statusText(status)
	}
	return truncate(s)
}

func statusText(status int) string {
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "no message"
}

func truncate(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
