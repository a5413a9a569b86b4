package main

import (
	"bytes"
	"encoding/json"
	"os"
	"sort"
	"strings"

	"github.com/metalkit/baremetal/internal/enroll"
)

// The nodes option is a list of free-form dicts (driver_info keys such as
// ipmi_priv_level pass through), so the spec cannot mark pm_password no_log
// inside it. run() registers every credential it parses, but a failure
// before run() (a bad value of another option) would echo the nodes in
// invocation as given. This guard scrubs the credentials of the raw nodes
// option from the printed result whatever path produced it.

// credentialsInArgs reads the credentials of the nodes option from the args
// file (or the JSON text Ansible's test harness passes in its place).
func credentialsInArgs(path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		data = []byte(path)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var args map[string]any
	if dec.Decode(&args) != nil {
		return nil
	}
	if inner, ok := args["ANSIBLE_MODULE_ARGS"].(map[string]any); ok {
		args = inner
	}
	nodes, _ := args["nodes"].([]any)
	var out []string
	for _, n := range nodes {
		d, _ := n.(map[string]any)
		for k, v := range d {
			if k != "pm_password" && !enroll.IsSecretKey(k) {
				continue
			}
			switch s := v.(type) {
			case string:
				out = append(out, s)
			case json.Number:
				out = append(out, s.String())
			}
		}
	}
	return out
}

const (
	noLogPlaceholder = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
	masked           = "********"
)

// guardCredentials applies Ansible's remove_values to the JSON result: a
// string equal to a credential becomes the placeholder, a string holding one
// gets it masked, a number whose text holds one becomes the placeholder.
func guardCredentials(result []byte, secrets []string) []byte {
	var list []string
	for _, s := range secrets {
		if s != "" {
			list = append(list, s)
		}
	}
	if len(list) == 0 {
		return result
	}
	// Longest first, so a credential containing another is masked whole.
	sort.Slice(list, func(i, j int) bool { return len(list[i]) > len(list[j]) })
	dec := json.NewDecoder(bytes.NewReader(result))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		// Not one JSON object: print nothing that could hold a credential.
		return []byte(`{"changed": false, "failed": true, "msg": "ironic_enroll: the module result was not valid JSON"}` + "\n")
	}
	b, err := json.Marshal(scrub(v, list))
	if err != nil {
		return []byte(`{"changed": false, "failed": true, "msg": "ironic_enroll: could not encode the module result"}` + "\n")
	}
	return append(b, '\n')
}

func scrub(v any, secrets []string) any {
	switch t := v.(type) {
	case string:
		for _, s := range secrets {
			if t == s {
				return noLogPlaceholder
			}
		}
		for _, s := range secrets {
			t = strings.ReplaceAll(t, s, masked)
		}
		return t
	case json.Number:
		for _, s := range secrets {
			if strings.Contains(t.String(), s) {
				return noLogPlaceholder
			}
		}
		return t
	case []any:
		for i := range t {
			t[i] = scrub(t[i], secrets)
		}
		return t
	case map[string]any:
		for k := range t {
			t[k] = scrub(t[k], secrets)
		}
		return t
	}
	return v
}
