package main

import (
	"strconv"

	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/image"
	"github.com/metalkit/baremetal/internal/openstack"
	"github.com/metalkit/baremetal/internal/task"
)

// run uploads, keeps or removes the image. SIGTERM/SIGINT (a task
// timeout, Ctrl-C) cancel t.Ctx, so an upload in flight is deleted before
// the module exits.
func run(t *task.Task) (*ansible.Result, error) {
	req, err := request(t)
	if err != nil {
		return nil, err
	}
	cloud, err := t.Cloud()
	if err != nil {
		return nil, err
	}
	client, err := cloud.Image(t.Ctx)
	if err != nil {
		return nil, err
	}
	g := image.NewGlance(client, projectID(cloud))

	obs, err := image.Observe(t.Ctx, g, req)
	if err != nil {
		return nil, err
	}
	plan := image.MakePlan(req.Desired, obs)
	out, err := image.Apply(t.Ctx, g, req, obs, plan)
	for _, w := range out.Warnings {
		t.Warn(w)
	}
	values := map[string]any{"image": image.ImageDict(out.Image), "removed": nonNil(out.Removed)}
	if out.Transfer != nil {
		out.Transfer.PeakRSSBytes = image.PeakRSS()
		values["transfer"] = out.Transfer
	}
	res := &ansible.Result{Changed: out.Changed, Msg: out.Msg, Values: values}
	if out.Msg != "" {
		res.Msg = t.Say("%s", out.Msg)
	}
	if err != nil {
		res.Changed = len(out.Removed) > 0
		return nil, task.Failed(res, err.Error())
	}
	if t.Diff && out.Changed {
		header := "images named " + strconv.Quote(req.Name)
		res.Diff = map[string]any{"before": map[string]any{"images": out.Before}, "after": map[string]any{"images": out.After},
			"before_header": header, "after_header": header}
	}
	return res, nil
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
