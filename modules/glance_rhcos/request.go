package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/metalkit/baremetal/internal/image"
	"github.com/metalkit/baremetal/internal/task"
)

// request maps and checks the options; nothing is contacted yet.
func request(m *task.Task) (*image.Request, error) {
	d := image.Desired{
		Name:            m.Str("name"),
		State:           m.Str("state"),
		DiskFormat:      m.Str("disk_format"),
		ContainerFormat: m.Str("container_format"),
		Visibility:      m.Str("visibility"),
		Force:           m.Bool("force"),
	}
	if strings.TrimSpace(d.Name) == "" {
		return nil, errors.New("name: must not be empty")
	}
	var err error
	if d.Checksums, err = image.ParseChecksums(m.StrList("checksum")); err != nil {
		return nil, err
	}
	if m.IsSet("tags") {
		d.Tags = nonNil(m.StrList("tags"))
	}
	for _, k := range []string{"min_disk", "min_ram"} {
		if m.IsSet(k) {
			v := m.Int(k)
			if v < 0 {
				return nil, fmt.Errorf("%s: must be 0 or more, got %d", k, v)
			}
			if k == "min_disk" {
				d.MinDisk = &v
			} else {
				d.MinRAM = &v
			}
		}
	}
	if m.IsSet("protected") {
		p := m.Bool("protected")
		d.Protected = &p
	}
	d.Properties = map[string]string{}
	for k, v := range m.Dict("properties") {
		if strings.HasPrefix(k, "metalkit_") || slices.Contains([]string{"os_hash_algo", "os_hash_value", "checksum", "size"}, k) {
			return nil, fmt.Errorf("properties: %s is reserved (set by this module or by Glance)", k)
		}
		d.Properties[k] = propertyText(v)
	}
	for _, k := range []string{"os_distro", "os_version"} {
		if v := m.Str(k); v != "" {
			d.Properties[k] = v
		}
	}
	req := &image.Request{Desired: d, Decompress: image.Compression(m.Str("decompress")), Method: m.Str("method"), CheckMode: m.CheckMode}
	if d.State == "absent" {
		return req, nil
	}
	if m.Str("url") != "" {
		caCert := m.Str("url_ca_cert")
		if caCert == "" {
			caCert = m.Str("ca_cert")
		}
		hs, err := image.NewHTTPSource(m.Str("url"), image.HTTPOptions{
			ValidateCerts:  m.Bool("url_validate_certs"),
			CACert:         caCert,
			ConnectTimeout: time.Duration(m.Int("url_timeout")) * time.Second,
		})
		if err != nil {
			return nil, err
		}
		req.Source, req.RawURL = hs, m.Str("url")
	} else {
		src, err := image.SourceFor("", m.Str("src"), image.HTTPOptions{})
		if err != nil {
			return nil, err
		}
		if _, err := src.Stat(m.Ctx); err != nil {
			return nil, err
		}
		req.Source = src
	}
	req.Desired.Source = req.Source.String()
	if req.Method == image.MethodWebDownload && m.Str("src") != "" {
		return nil, errors.New("method: web-download needs url (Glance fetches it), not src")
	}
	return req, nil
}

func propertyText(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	}
	return fmt.Sprint(v)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
