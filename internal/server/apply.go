package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/metalkit/baremetal/internal/diagnose"
	"github.com/metalkit/baremetal/internal/openstack"
	"github.com/metalkit/baremetal/internal/poll"
)

// DiagnoseBudget bounds the diagnosis reads after a failure (the task's own
// deadline may be spent when a wait timed out).
const DiagnoseBudget = 2 * time.Minute

// Outcome is what Apply did.
type Outcome struct {
	Changed bool
	// Server is the server at the end (nil after a delete).
	Server *servers.Server
	// Node is the Ironic node the server runs on, when known.
	Node *nodes.Node
	// Deleted are the IDs of the servers deleted.
	Deleted []string
	// Timings are in seconds: create (POST to ACTIVE), delete (DELETE to
	// gone), node_available (gone to the node cleaned back to available).
	Timings map[string]float64
	// Diagnosis explains an ERROR or a timeout.
	Diagnosis *diagnose.Diagnosis
	// Refused is the server Nova refused while Placement still reserved the
	// node just freed (deleted, then created again).
	Refused string
}

// Failed is a failure after (or instead of) changes, carrying what was
// done and the diagnosis.
type Failed struct {
	Msg     string
	Outcome *Outcome
}

func (f *Failed) Error() string { return f.Msg }

// Apply runs the plan.
func Apply(ctx context.Context, c Clients, d Desired, o Observed, p Plan) (*Outcome, error) {
	out := &Outcome{Timings: map[string]float64{}}
	if len(p.Existing) == 1 {
		s := p.Existing[0]
		out.Server = &s
	}
	for _, a := range p.Actions {
		var err error
		switch a {
		case ActionDelete:
			err = deleteAll(ctx, c, d, p.Existing, out)
			if err == nil && p.Has(ActionCreate) {
				err = waitFreedNode(ctx, c, o, out)
			}
		case ActionCreate:
			err = create(ctx, c, d, o, out)
			if p.Has(ActionDelete) && placementLagged(err) {
				err = recreateAfterLag(ctx, c, d, o, out)
			}
		case ActionWait:
			err = waitActive(ctx, c, d, o, out.Server.ID, out)
		case ActionUpdateMetadata:
			err = servers.UpdateMetadata(ctx, c.Compute, out.Server.ID, servers.MetadataOpts(p.Metadata)).Err
			if err != nil {
				err = openstack.Describe(err, "metadata of server "+d.Name)
			} else {
				out.Changed = true
				out.Server.Metadata = mergeMetadata(out.Server.Metadata, p.Metadata)
			}
		}
		if err != nil {
			var f *Failed
			if errors.As(err, &f) {
				return out, f
			}
			return out, &Failed{Msg: err.Error(), Outcome: out}
		}
	}
	if out.Server != nil && out.Node == nil && c.Baremetal != nil && out.Server.Status == "ACTIVE" {
		out.Node, _ = NodeOf(ctx, c, out.Server)
	}
	return out, nil
}

func mergeMetadata(have, set map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range have {
		out[k] = v
	}
	for k, v := range set {
		out[k] = v
	}
	return out
}

// waitFreedNode waits, before a recreate, until Placement offers the
// flavor again: the deleted server's node is cleaned, and Nova reports it
// back within its resource update interval. Creating at once would find
// no node ("No valid host was found"), the one it just freed among them.
func waitFreedNode(ctx context.Context, c Clients, o Observed, out *Outcome) error {
	if c.Placement == nil || o.Flavor == nil {
		return nil
	}
	start := time.Now()
	err := poll.Until(ctx, capacityPace, func(ctx context.Context) (bool, error) {
		n, err := diagnose.Capacity(ctx, c.Placement, *o.Flavor)
		// A Placement that cannot be read does not hold the create back:
		// the create's own failure, if any, comes with its diagnosis.
		return err != nil || n > 0, nil
	})
	out.Timings["capacity_wait"] = since(start)
	if err != nil {
		return fmt.Errorf("waiting for Placement to offer flavor %s again after the delete: %w", o.Flavor.Name, err)
	}
	return nil
}

// placementLagged tells a recreate refused only because Placement still
// reserved the node the delete had just freed (see Diagnosis.PlacementLags).
func placementLagged(err error) bool {
	var f *Failed
	return errors.As(err, &f) && f.Outcome != nil && f.Outcome.Diagnosis != nil && f.Outcome.Diagnosis.PlacementLags()
}

// recreateAfterLag deletes the refused server, waits for Placement to offer
// the flavor again and creates once more: once, so a node Nova keeps
// reserving still fails with its diagnosis.
func recreateAfterLag(ctx context.Context, c Clients, d Desired, o Observed, out *Outcome) error {
	refused := *out.Server
	out.Refused = refused.ID
	out.Diagnosis = nil
	if err := deleteAll(ctx, c, d, []servers.Server{refused}, out); err != nil {
		return err
	}
	if err := waitFreedNode(ctx, c, o, out); err != nil {
		return err
	}
	return create(ctx, c, d, o, out)
}

// maxDeleteResends bounds how often a delete Nova dropped is sent again.
const maxDeleteResends = 3

// deleteAll deletes the servers and, with wait, waits for each to be gone
// and for its Ironic node to be cleaned back to available.
func deleteAll(ctx context.Context, c Clients, d Desired, list []servers.Server, out *Outcome) error {
	for _, s := range list {
		var node *nodes.Node
		if c.Baremetal != nil {
			node, _ = NodeOf(ctx, c, &s)
		}
		start := time.Now()
		// The connection retries a 500 (Nova on a busy database); when the
		// first try did delete, the retry answers 404: gone either way.
		err := servers.Delete(ctx, c.Compute, s.ID).ExtractErr()
		if err != nil && !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
			return openstack.Describe(err, "delete of server "+s.Name+" ("+s.ID+")")
		}
		out.Changed = true
		out.Deleted = append(out.Deleted, s.ID)
		out.Server = nil
		if !d.Wait {
			continue
		}
		resent := 0
		if err := waitUntil(ctx, func(ctx context.Context) (bool, error) {
			got, err := servers.Get(ctx, c.Compute, s.ID).Extract()
			if gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
				return true, nil
			}
			if err == nil && got.TaskState == "" && got.Status != "DELETED" && resent < maxDeleteResends {
				// Nova dropped the delete ("reverted task state from
				// deleting on failure": a busy database): ask again.
				resent++
				err = servers.Delete(ctx, c.Compute, s.ID).ExtractErr()
				if gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
					return true, nil
				}
			}
			return false, openstackErr(err, "server "+s.Name)
		}); err != nil {
			return fmt.Errorf("waiting for server %s (%s) to be deleted: %w", s.Name, s.ID, err)
		}
		out.Timings["delete"] = since(start)
		if node == nil {
			continue
		}
		start = time.Now()
		n, err := openstack.WaitNodeProvisionState(ctx, c.Baremetal, node.UUID, "available", openstack.WithInterval(time.Second))
		if err != nil {
			return fmt.Errorf("server %s deleted, but its node %s did not come back to available: %w", s.Name, label(node), err)
		}
		out.Node = n
		out.Timings["node_available"] = since(start)
	}
	return nil
}

func openstackErr(err error, what string) error {
	if err == nil {
		return nil
	}
	return openstack.Describe(err, what)
}

// create boots the server and, with wait, waits for ACTIVE.
func create(ctx context.Context, c Clients, d Desired, o Observed, out *Outcome) error {
	opts := servers.CreateOpts{
		Name:             d.Name,
		ImageRef:         o.Image.ID,
		FlavorRef:        o.Flavor.ID,
		AvailabilityZone: o.AvailabilityZone,
		Metadata:         d.Metadata,
		ConfigDrive:      &d.ConfigDrive,
	}
	if d.Nics.Mode != "" {
		opts.Networks = d.Nics.Mode
	} else {
		opts.Networks = o.Networks
	}
	if d.UserData != nil {
		// Always encoded here: gophercloud passes through data that happens to be valid base64.
		opts.UserData = []byte(d.UserData.Encoded())
	}
	var builder servers.CreateOptsBuilder = opts
	if d.KeyName != "" {
		builder = keypairs.CreateOptsExt{CreateOptsBuilder: opts, KeyName: d.KeyName}
	}
	var hints servers.SchedulerHintOptsBuilder
	if len(d.SchedulerHints) > 0 {
		hints = hintMap(d.SchedulerHints)
	}
	start := time.Now()
	s, err := servers.Create(ctx, c.Compute, builder, hints).Extract()
	if err != nil {
		return openstack.Describe(err, "create of server "+d.Name)
	}
	out.Changed = true
	out.Server = &servers.Server{ID: s.ID, Name: d.Name, Status: "BUILD"}
	if !d.Wait {
		if full, err := servers.Get(ctx, c.Compute, s.ID).Extract(); err == nil {
			out.Server = full
		}
		return nil
	}
	err = waitActive(ctx, c, d, o, s.ID, out)
	if err == nil {
		out.Timings["create"] = since(start)
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		// Interrupted (a signal), not out of time: the server this run
		// asked for is half-deployed and holds a node; take it back.
		return fmt.Errorf("%w; %s", err, withdraw(c, d, s.ID, out))
	}
	return err
}

// withdraw deletes a server the run created and was interrupted while
// deploying, with a context of its own (the task's is cancelled).
func withdraw(c Clients, d Desired, id string, out *Outcome) string {
	ctx, cancel := context.WithTimeout(context.Background(), withdrawBudget)
	defer cancel()
	err := servers.Delete(ctx, c.Compute, id).ExtractErr()
	if err != nil && !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		return fmt.Sprintf("the half-deployed server %s (%s) could not be deleted: %v", d.Name, id, openstack.Describe(err, ""))
	}
	out.Deleted = append(out.Deleted, id)
	out.Server = nil
	return fmt.Sprintf("the half-deployed server %s (%s) was deleted", d.Name, id)
}

// withdrawBudget bounds the clean-up after an interruption: Ansible (or the
// operator) is waiting for the module to exit.
const withdrawBudget = 30 * time.Second

type hintMap map[string]any

func (h hintMap) ToSchedulerHintsMap() (map[string]any, error) {
	return map[string]any{"os:scheduler_hints": map[string]any(h)}, nil
}

// waitActive polls the server until ACTIVE; on ERROR or timeout it returns
// a Failed carrying the diagnosis.
func waitActive(ctx context.Context, c Clients, d Desired, o Observed, id string, out *Outcome) error {
	var last *servers.Server
	err := waitUntil(ctx, func(ctx context.Context) (bool, error) {
		s, err := servers.Get(ctx, c.Compute, id).Extract()
		if err != nil {
			return false, openstack.Describe(err, "server "+d.Name)
		}
		last = s
		out.Server = s
		return s.Status == "ACTIVE" || s.Status == "ERROR", nil
	})
	if err == nil && last.Status == "ACTIVE" {
		return nil
	}
	// The task's deadline, not an error that only looks like one (Go's dial
	// and header timeouts match context.DeadlineExceeded too).
	if err != nil && (last == nil || !errors.Is(ctx.Err(), context.DeadlineExceeded)) {
		return err
	}
	// ERROR, or still building when the time ran out: do the operator's homework.
	dctx, cancel := context.WithTimeout(context.Background(), DiagnoseBudget)
	defer cancel()
	if fresh, gerr := servers.Get(dctx, c.Compute, id).Extract(); gerr == nil {
		last, out.Server = fresh, fresh
	}
	diag := Diagnose(dctx, c, d, o, last)
	out.Diagnosis = &diag
	if last.Status == "ERROR" {
		return &Failed{Msg: fmt.Sprintf("server %s (%s) went to ERROR: %s", d.Name, id, diag.Summary), Outcome: out}
	}
	return &Failed{Msg: fmt.Sprintf("server %s (%s) is still %s after the timeout: %s", d.Name, id, last.Status, diag.Summary), Outcome: out}
}

// Diagnose observes Nova, Ironic and Placement and explains why srv (nil:
// a server of the desired flavor) did or could not land on a node.
func Diagnose(ctx context.Context, c Clients, d Desired, o Observed, srv *servers.Server) diagnose.Diagnosis {
	var flavor diagnose.Flavor
	if o.Flavor != nil {
		flavor = *o.Flavor
	}
	var target *diagnose.Server
	if srv != nil {
		target = diagnose.ServerFrom(srv)
		if embedded, ok := embeddedFlavor(srv.Flavor); ok && (o.Flavor == nil || embedded.Name == o.Flavor.Name) {
			embedded.ID = flavor.ID
			flavor = embedded
		}
	}
	req := diagnose.Request{
		PinnedNode:  o.Pin.Node,
		PinnedHost:  o.Pin.Host,
		ConfigDrive: d.ConfigDrive,
		NoNetworks:  d.Nics.Mode == "none",
	}
	src := diagnose.Sources{
		Compute: c.Compute, Baremetal: c.Baremetal, Placement: c.Placement,
		BaremetalErr: c.BaremetalErr, PlacementErr: c.PlacementErr,
	}
	return diagnose.Diagnose(diagnose.Observe(ctx, src, flavor, target, req))
}

// embeddedFlavor reads the flavor Nova embeds in a server (microversion
// 2.47+): what was asked at boot, even if the flavor changed since.
func embeddedFlavor(m map[string]any) (diagnose.Flavor, bool) {
	name, ok := m["original_name"].(string)
	specs, hasSpecs := m["extra_specs"].(map[string]any)
	if !ok || !hasSpecs {
		return diagnose.Flavor{}, false
	}
	f := diagnose.Flavor{Name: name, ExtraSpecs: map[string]string{}}
	num := func(k string) int { v, _ := m[k].(float64); return int(v) }
	f.VCPUs, f.RAM, f.Disk, f.Ephemeral, f.Swap = num("vcpus"), num("ram"), num("disk"), num("ephemeral"), num("swap")
	for k, v := range specs {
		f.ExtraSpecs[k] = fmt.Sprint(v)
	}
	return f, true
}

// deployPace is how often a deploy or a deletion is looked at: every
// 0.25 s rising to 2 s during the first two minutes (a fake-hardware deploy
// takes seconds), then every 10 s (a real one takes many minutes).
// Transient failures of one read (a 500 from a busy Nova, a dropped
// connection) are retried by the connection layer: an error is final.
var deployPace = poll.Backoff{First: 250 * time.Millisecond, Max: 2 * time.Second, Growth: 1.25,
	LateMax: 10 * time.Second, LateAfter: 2 * time.Minute}

// waitUntil looks at the deploy until cond says done; the context's end
// reads "timed out" (its deadline) or "stopped" (cancelled: a signal).
func waitUntil(ctx context.Context, cond func(ctx context.Context) (bool, error)) error {
	err := poll.Until(ctx, deployPace, cond)
	switch {
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("timed out: %w", ctx.Err())
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("stopped: %w", ctx.Err())
	}
	return err
}

func since(t time.Time) float64 {
	return float64(time.Since(t).Milliseconds()) / 1000
}

func label(n *nodes.Node) string {
	if n.Name != "" {
		return n.Name
	}
	return n.UUID
}
