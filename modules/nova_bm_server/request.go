package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/cloudopts"
	"github.com/metalkit/baremetal/internal/secret"
	"github.com/metalkit/baremetal/internal/server"
	"github.com/metalkit/baremetal/internal/task"
)

// desired maps and checks the options; nothing is contacted yet.
func desired(t *task.Task) (server.Desired, error) {
	m := t.Module
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
		content, err := os.ReadFile(path)
		if err != nil {
			return d, fmt.Errorf("user_data_file: %w", err)
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
