package main

import (
	"context"
	"errors"
	"fmt"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/cloudopts"
	"github.com/metalkit/baremetal/internal/image"
	"github.com/metalkit/baremetal/internal/openstack"
)

func run(m *ansible.Module) (*ansible.Result, error) {
	req, err := request(m)
	if err != nil {
		return nil, err
	}
	timeout := time.Duration(m.Int("timeout")) * time.Second
	if timeout <= 0 {
		timeout = defaultTimeout * time.Second
	}
	// SIGTERM/SIGINT (a task timeout, Ctrl-C) cancel the transfer so the
	// image being uploaded is deleted before the module exits.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	cloud, err := openstack.Connect(ctx, cloudopts.FromParams(m.Params))
	if err != nil {
		return nil, err
	}
	client, err := cloud.Image(ctx)
	if err != nil {
		return nil, err
	}
	g := image.NewGlance(client, projectID(cloud))

	obs, err := image.Observe(ctx, g, req)
	if err != nil {
		return nil, explain(ctx, err, timeout)
	}
	plan := image.MakePlan(req.Desired, obs)
	out, err := image.Apply(ctx, g, req, obs, plan)
	for _, w := range out.Warnings {
		m.Warn(w)
	}
	values := map[string]any{"image": image.ImageDict(out.Image), "removed": nonNil(out.Removed)}
	if out.Transfer != nil {
		out.Transfer.PeakRSSBytes = image.PeakRSS()
		values["transfer"] = out.Transfer
	}
	if err != nil {
		values["changed"] = len(out.Removed) > 0
		return nil, ansible.Failf(values, "%s", explain(ctx, err, timeout))
	}
	res := &ansible.Result{Changed: out.Changed, Msg: out.Msg, Values: values}
	if m.Diff && out.Changed {
		res.Diff = map[string]any{
			"before":        map[string]any{"images": out.Before},
			"after":         map[string]any{"images": out.After},
			"before_header": "images named " + strconv.Quote(req.Name),
			"after_header":  "images named " + strconv.Quote(req.Name),
		}
	}
	return res, nil
}

// request maps and checks the options; nothing is contacted yet.
func request(m *ansible.Module) (*image.Request, error) {
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
		for _, s := range image.URLSecrets(m.Str("url")) {
			m.AddSecret(s)
			openstack.RegisterSecret(s)
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
		if _, err := src.Stat(context.Background()); err != nil {
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

// projectID is the token's project, so only our project's images are ours
// to match or delete; "" (no Keystone, or unscoped) means no filter.
func projectID(c *openstack.Cloud) string {
	if c.Provider == nil {
		return ""
	}
	if r, ok := c.Provider.GetAuthResult().(interface {
		ExtractProject() (*tokens.Project, error)
	}); ok {
		if p, err := r.ExtractProject(); err == nil && p != nil {
			return p.ID
		}
	}
	return ""
}

// explain says which bound stopped a transfer cut short.
func explain(ctx context.Context, err error, timeout time.Duration) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("timed out after %s (raise timeout for slow mirrors or large images): %w", timeout, err)
	case ctx.Err() != nil:
		return fmt.Errorf("interrupted (signal): %w", err)
	}
	return err
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
