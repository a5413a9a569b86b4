package server

import (
	"context"
	"fmt"
	"strings"

	"github.com/metalkit/baremetal/internal/diagnose"
	"github.com/metalkit/baremetal/internal/openstack"
)

// Connect opens the cloud and the clients the state needs; only Nova is
// required, the others are read where reachable.
func Connect(ctx context.Context, cloud *openstack.Cloud, state string) (Clients, error) {
	var c Clients
	var err error
	if c.Compute, err = cloud.Compute(ctx); err != nil {
		return c, err
	}
	if state == StatePresent {
		c.Image, c.ImageErr = cloud.Image(ctx)
		c.Network, c.NetworkErr = cloud.Network(ctx)
	}
	c.Baremetal, c.BaremetalErr = cloud.Baremetal(ctx)
	if state != StateAbsent {
		c.Placement, c.PlacementErr = cloud.Placement(ctx)
	}
	return c, nil
}

// DiagnoseOnly answers state=diagnose: nothing is created.
func DiagnoseOnly(ctx context.Context, c Clients, d Desired) (map[string]any, string, error) {
	flavor, err := ResolveFlavor(ctx, c.Compute, d.Flavor)
	if err != nil {
		return nil, "", fmt.Errorf("flavor: %w", err)
	}
	obs := Observed{Flavor: flavor, Pin: ParseAvailabilityZone(d.AvailabilityZone)}
	list, err := FindServers(ctx, c.Compute, d.Name)
	if err != nil {
		return nil, "", err
	}
	values := map[string]any{"server": nil, "actions": []string{}, "mismatches": []string{}, "deleted": []string{}}
	var diag diagnose.Diagnosis
	if len(list) == 1 {
		values["server"] = View(&list[0], nil)
		diag = Diagnose(ctx, c, d, obs, &list[0])
	} else {
		diag = Diagnose(ctx, c, d, obs, nil)
	}
	values["diagnosis"] = diag
	return values, diag.Summary, nil
}

func CheckMessage(d Desired, p Plan) string {
	if !p.Changes() {
		return fmt.Sprintf("server %s: nothing to change", d.Name)
	}
	return fmt.Sprintf("server %s: would %s", d.Name, strings.Join(ActionNames(p.Actions), ", then "))
}

func DoneMessage(d Desired, p Plan, out *Outcome) string {
	switch {
	case d.State == StateAbsent && len(out.Deleted) == 0:
		return fmt.Sprintf("server %s is absent", d.Name)
	case d.State == StateAbsent:
		msg := fmt.Sprintf("server %s deleted", d.Name)
		if out.Node != nil {
			msg += fmt.Sprintf("; node %s is %s again", nodeLabel(out), out.Node.ProvisionState)
		}
		return msg
	case out.Server == nil:
		return fmt.Sprintf("server %s", d.Name)
	}
	verb := "unchanged"
	switch {
	case p.Has(ActionCreate) && p.Has(ActionDelete):
		verb = "recreated"
	case p.Has(ActionCreate):
		verb = "created"
	case p.Has(ActionUpdateMetadata):
		verb = "metadata updated"
	}
	msg := fmt.Sprintf("server %s %s: %s", d.Name, verb, out.Server.Status)
	if out.Node != nil {
		msg += " on node " + nodeLabel(out)
	}
	if t, ok := out.Timings["create"]; ok {
		msg += fmt.Sprintf(" after %.1f s", t)
	}
	if out.Refused != "" {
		msg += fmt.Sprintf(" (Nova first refused it as %s while Placement still reserved the node just freed)", out.Refused)
	}
	return msg
}

func nodeLabel(out *Outcome) string {
	if out.Node.Name != "" {
		return out.Node.Name
	}
	return out.Node.UUID
}

func ActionNames(actions []Action) []string {
	out := []string{}
	for _, a := range actions {
		out = append(out, string(a))
	}
	return out
}

func OrEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
