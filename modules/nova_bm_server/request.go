package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/cloudopts"
	"github.com/metalkit/baremetal/internal/safefile"
	"github.com/metalkit/baremetal/internal/secret"
	"github.com/metalkit/baremetal/internal/server"
	"github.com/metalkit/baremetal/internal/task"
)

// desireds are the servers the task asks for: each item of servers over
// the task's options, or the task's one server. Nothing is contacted yet.
func desireds(t *task.Task) ([]server.Desired, error) {
	items := t.List("servers")
	if items == nil {
		d, err := desired(t, t.Module)
		return []server.Desired{d}, err
	}
	if t.Str("state") == server.StateDiagnose {
		return nil, errors.New("state: diagnose takes one server (name), not servers")
	}
	if len(items) == 0 {
		return nil, errors.New("servers: the list is empty")
	}
	var out []server.Desired
	names := map[string]int{}
	for i, item := range items {
		where := fmt.Sprintf("servers[%d]", i)
		params := maps.Clone(t.Params)
		own, _ := item.(map[string]any)
		for _, pair := range [][]string{{"user_data", "user_data_file"}, {"nics", "network"}} {
			if own[pair[0]] != nil || own[pair[1]] != nil {
				params[pair[0]], params[pair[1]] = nil, nil // the item's replaces the task's
			}
		}
		for k, v := range own {
			if v != nil && slices.Contains(itemKeys, k) {
				params[k] = v
			}
		}
		d, err := desired(t, &ansible.Module{Name: t.Name, Params: params})
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", where, params["name"], err)
		}
		if j, dup := names[d.Name]; dup {
			return nil, fmt.Errorf("%s: name %q is also servers[%d]'s: a name means one server", where, d.Name, j)
		}
		names[d.Name] = i
		out = append(out, d)
	}
	return out, nil
}

// desired maps and checks one server's options: the task's, or an item of
// servers over them.
func desired(t *task.Task, m *ansible.Module) (server.Desired, error) {
	d := server.Desired{
		Name:             m.Str("name"),
		State:            m.Str("state"),
		Image:            m.Str("image"),
		Flavor:           m.Str("flavor"),
		ConfigDrive:      m.Bool("config_drive"),
		KeyName:          m.Str("key_name"),
		AvailabilityZone: m.Str("availability_zone"),
		SchedulerHints:   m.Dict("scheduler_hints"),
		Wait:             cloudopts.Wait(m.Params),
		Timeout:          t.Timeout,
		RecreateOnError:  m.Bool("recreate_on_error"),
	}
	if strings.TrimSpace(d.Name) == "" {
		return d, errors.New("name: must not be empty")
	}
	if d.State == server.StatePresent {
		var missing []string
		for _, k := range []string{"image", "flavor"} {
			if !m.IsSet(k) {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			return d, fmt.Errorf("state is present but all of the following are missing: %s", strings.Join(missing, ", "))
		}
	}
	var err error
	if d.Nics, err = server.ParseNics(m.Params["nics"], m.Str("network")); err != nil {
		return d, err
	}
	if md := m.Dict("metadata"); md != nil {
		d.Metadata = map[string]string{}
		for k, v := range md {
			switch v := v.(type) {
			case string:
				d.Metadata[k] = v
			case nil:
				return d, fmt.Errorf("metadata: %s has no value; Nova metadata values are strings", k)
			default:
				b, _ := json.Marshal(v)
				d.Metadata[k] = strings.Trim(string(b), `"`)
			}
		}
	}
	switch {
	case m.IsSet("user_data"):
		d.UserData = &server.UserData{Content: []byte(m.Str("user_data")), Source: "user_data"}
	case m.IsSet("user_data_file"):
		path := m.Str("user_data_file")
		// Above Nova's limit, so that CheckSize words a too large file.
		content, err := safefile.Read("user_data_file", path, 1<<20)
		if err != nil {
			return d, err
		}
		secret.Add(string(content)) // user data holds password hashes and keys
		d.UserData = &server.UserData{Content: content, Source: path}
	}
	if d.UserData != nil && d.State == server.StatePresent {
		// Before any connection: an oversized file fails fast.
		if err := d.UserData.CheckSize(); err != nil {
			return d, ansible.Failf(map[string]any{"user_data": d.UserData.Report()}, "%v; nothing was created", err)
		}
	}
	return d, nil
}
