package ansible

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"strings"
)

// DocsFlag makes Run print the module's sidecar documentation.
const DocsFlag = "--metalkit-docs"

const (
	msgBadJSON = "Error: Module unable to decode valid JSON on stdin.  Unable to figure out what parameters were passed"
	// ansibleArgsKey wraps args the way Python modules receive them; Run
	// accepts that form too, which helps running a module by hand.
	ansibleArgsKey = "ANSIBLE_MODULE_ARGS"
)

// Run reads os.Args[1], validates, runs, prints, exits. If os.Args[1] ==
// "--metalkit-docs" it prints DocsYAML(spec) instead and exits 0.
// Modules call it through package task, which adds the runtime around run.
func Run(spec *Spec, run func(*Module) (*Result, error)) {
	// Stray prints from module code go to stderr: stdout carries exactly
	// one JSON object.
	out := os.Stdout
	os.Stdout = os.Stderr
	os.Exit(Main(spec, out, run))
}

// Main is Run without the exit and the stdout redirection: the docs flag
// or one Execute, writing to stdout, returning the exit code.
func Main(spec *Spec, stdout io.Writer, run func(*Module) (*Result, error)) int {
	if len(os.Args) > 1 && os.Args[1] == DocsFlag {
		doc, err := DocsYAML(spec)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		_, _ = stdout.Write(doc)
		return 0
	}
	path := ""
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	return Execute(spec, path, stdout, run)
}

// Execute is the testable core of Run: it reads the args file at argsPath
// (a flat JSON object of options and _ansible_* keys), validates it like
// AnsibleModule, calls run, and writes one JSON result to stdout. It
// returns the exit code (0 success, 1 failure). Panics in validation or
// run become a failed result.
func Execute(spec *Spec, argsPath string, stdout io.Writer, run func(*Module) (*Result, error)) (code int) {
	sec := newSecrets()
	m := &Module{}
	if spec != nil {
		m.Name = spec.Name
	}
	var params map[string]any // set once the args are read: echoed in invocation
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		p := payload{"changed": false, "failed": true, "msg": fmt.Sprintf("module %s panicked: %v", m.Name, r)}
		if params != nil {
			p["invocation"] = map[string]any{"module_args": params}
		}
		if m.Verbosity >= 3 {
			p["exception"] = string(debug.Stack())
		}
		code = emitSafe(stdout, p, sec)
	}()

	args, errMsg := readArgs(argsPath, m)
	if errMsg != "" {
		return emit(stdout, payload{"changed": false, "failed": true, "msg": errMsg}, sec)
	}
	internalErr := m.takeInternal(args)
	normalizeJSON(args)
	params = args
	m.Params = args

	fail := func(msg string, values map[string]any) int {
		p := newPayload(values)
		changed, _ := p["changed"].(bool)
		p["changed"] = changed
		p["failed"] = true
		p["msg"] = msg
		m.finish(p, params)
		return emit(stdout, p, sec)
	}

	c, err := compile(spec)
	if err != nil {
		return fail(err.Error(), nil)
	}
	vr := validate(c, params, sec)
	m.warnings = append(vr.warnings, m.warnings...)
	switch {
	case internalErr != "":
		return fail(internalErr, nil)
	case vr.unsupported:
		return fail(fmt.Sprintf("Unsupported parameters for (%s) module: %s", m.Name, vr.msg), nil)
	case vr.msg != "":
		return fail(vr.msg, nil)
	}

	res, err := run(m)
	if err != nil {
		var f *Failure
		var values map[string]any
		if errors.As(err, &f) {
			values = f.Values
		}
		return fail(err.Error(), values)
	}
	if res == nil {
		res = &Result{}
	}
	p := newPayload(res.Values)
	p["changed"] = res.Changed
	p["failed"] = false
	if res.Msg != "" {
		p["msg"] = res.Msg
	} else {
		delete(p, "msg")
	}
	if res.Diff != nil {
		p["diff"] = resultValue(res.Diff)
	} else {
		delete(p, "diff")
	}
	m.finish(p, params)
	return emit(stdout, p, sec)
}

// finish adds the keys AnsibleModule's _return_formatted adds.
func (m *Module) finish(p payload, params map[string]any) {
	p["invocation"] = map[string]any{"module_args": params}
	delete(p, "warnings")
	delete(p, "deprecations")
	if len(m.warnings) > 0 {
		w := make([]any, len(m.warnings))
		for i, s := range m.warnings {
			w[i] = s
		}
		p["warnings"] = w
	}
	if len(m.deprecations) > 0 {
		p["deprecations"] = m.deprecations
	}
}

// emitSafe is emit for the panic path: should emitting itself panic, a
// fixed failure is written so that stdout still holds one JSON object.
func emitSafe(w io.Writer, p payload, sec *secrets) (code int) {
	defer func() {
		if recover() != nil {
			_, _ = io.WriteString(w, `{"changed": false, "failed": true, "msg": "module panicked"}`+"\n")
			code = 1
		}
	}()
	return emit(w, p, sec)
}

// readArgs reads and decodes the args file. Like AnsibleModule it also
// takes the JSON text itself in place of a path.
func readArgs(path string, m *Module) (map[string]any, string) {
	if path == "" {
		return nil, fmt.Sprintf("usage: %s ARGS_FILE (an Ansible binary module: Ansible passes the path of a JSON arguments file)", m.Name)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !strings.HasPrefix(strings.TrimSpace(path), "{") {
			return nil, fmt.Sprintf("Error: Module unable to read the arguments file: %v", err)
		}
		data = []byte(path)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var args map[string]any
	if err := dec.Decode(&args); err != nil || args == nil {
		return nil, msgBadJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, msgBadJSON
	}
	if inner, ok := args[ansibleArgsKey].(map[string]any); ok && len(args) == 1 {
		args = inner
	}
	return args, ""
}

// takeInternal removes every _ansible_* key (newer controllers send keys we
// do not know: never unsupported) and applies the ones we honour. It
// returns Ansible's message for an invalid boolean flag.
func (m *Module) takeInternal(args map[string]any) (errMsg string) {
	boolFlag := func(key string, dst *bool) {
		v, ok := args[key]
		if !ok || v == nil {
			return
		}
		b, err := pyBoolean(normalizeJSON(v))
		if err != nil && errMsg == "" {
			errMsg = err.Error()
		}
		*dst = b
	}
	boolFlag("_ansible_check_mode", &m.CheckMode)
	boolFlag("_ansible_diff", &m.Diff)
	switch v := normalizeJSON(args["_ansible_verbosity"]).(type) {
	case int:
		m.Verbosity = v
	case string:
		if n, ok := pyParseInt(v); ok {
			m.Verbosity, _ = n.(int)
		}
	}
	if name, ok := args["_ansible_module_name"].(string); ok && name != "" {
		m.Name = name
	}
	for k := range args {
		if strings.HasPrefix(k, "_ansible_") {
			delete(args, k)
		}
	}
	return errMsg
}
