package enroll

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/ports"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/metalkit/baremetal/internal/openstack"
	"github.com/metalkit/baremetal/internal/poll"
	"github.com/metalkit/baremetal/internal/pool"
)

// Outcome is what happened to one node.
type Outcome struct {
	Plan           *Plan
	Name           string
	UUID           string
	ProvisionState string
	// Action is the plan's, or "failed" / "skipped".
	Action  Action
	Changed bool
	Ports   []OutPort
	// Error says why the node failed (scrubbed); LastError is Ironic's.
	Error     string
	LastError string
	// waiting: a manage was requested (or was in progress) and the node is awaited.
	waiting bool
	// verifyResumes counts the manages sent again after a conductor restart.
	verifyResumes int
}

// OutPort is a port of the node after the run.
type OutPort struct {
	UUID    string `json:"uuid"`
	Address string `json:"address"`
}

const (
	ActionFailed  Action = "failed"
	ActionSkipped Action = "skipped"
)

// Failed tells whether the node ended in error.
func (o *Outcome) Failed() bool { return o.Error != "" }

// Predict is the outcome of a plan without applying it (check mode).
func Predict(plans []*Plan) []*Outcome {
	out := make([]*Outcome, len(plans))
	for i, p := range plans {
		o := newOutcome(p)
		o.Changed = p.Err == nil && p.Changed()
		if p.Err != nil {
			o.fail(p.Err)
		}
		if p.Err == nil {
			o.Ports = predictedPorts(p)
			switch {
			case p.Action == ActionDelete:
				o.ProvisionState = ""
			case p.Manage:
				o.ProvisionState = StateManageable
			case p.Action == ActionCreate:
				o.ProvisionState = StateEnroll
			}
		}
		out[i] = o
	}
	return out
}

func newOutcome(p *Plan) *Outcome {
	o := &Outcome{Plan: p, Name: p.Node.Name, Action: p.Action}
	if p.Existing != nil {
		o.UUID = p.Existing.UUID
		o.ProvisionState = p.Existing.ProvisionState
		o.LastError = p.Existing.LastError
		if o.Name == "" {
			o.Name = p.Existing.Name
		}
		for _, port := range p.ExistingPorts {
			o.Ports = append(o.Ports, OutPort{UUID: port.UUID, Address: port.Address})
		}
	}
	return o
}

func (o *Outcome) fail(err error) {
	o.Error = openstack.Scrub(err.Error())
	if o.Action != ActionSkipped {
		o.Action = ActionFailed
	}
}

func predictedPorts(p *Plan) []OutPort {
	if p.Action == ActionDelete || p.Action == ActionAbsent {
		return nil
	}
	gone := map[string]bool{}
	for _, d := range p.PortDeletes {
		gone[d.UUID] = true
	}
	var out []OutPort
	for _, port := range p.ExistingPorts {
		if !gone[port.UUID] {
			out = append(out, OutPort{UUID: port.UUID, Address: port.Address})
		}
	}
	for _, c := range p.PortCreates {
		out = append(out, OutPort{Address: c.Address})
	}
	sortPorts(out)
	return out
}

func sortPorts(ps []OutPort) {
	sort.Slice(ps, func(a, b int) bool { return ps[a].Address < ps[b].Address })
}

// Apply runs the plans: a pool of opts.Concurrency workers makes each
// node's writes (create or patch, ports, the manage request, or delete),
// then one poller waits for every node in verifying at once, listing nodes
// instead of reading them one by one. A failure on one node never hides the
// others' outcomes; with Failfast, nodes not yet started are skipped.
func Apply(ctx context.Context, client *gophercloud.ServiceClient, plans []*Plan, opts Options) []*Outcome {
	out := make([]*Outcome, len(plans))
	for i, p := range plans {
		out[i] = newOutcome(p)
	}
	failedBefore := false
	var todo []int
	for i, p := range plans {
		switch {
		case p.Err != nil:
			out[i].fail(p.Err)
			failedBefore = true
		case p.Changed() || p.Wait:
			todo = append(todo, i)
		}
	}
	pool.Run(todo, opts.Concurrency, opts.Failfast, failedBefore, func(i int) bool {
		applyOne(ctx, client, out[i])
		return out[i].Failed()
	}, func(i int) {
		out[i].Action = ActionSkipped
		out[i].Error = "not attempted: failfast is set and another node failed"
	})
	waitVerifying(ctx, client, out, opts)
	return out
}

// applyOne makes one node's writes, in an order that leaves a usable node
// behind if it stops half way: node, then its ports, then manage.
func applyOne(ctx context.Context, client *gophercloud.ServiceClient, o *Outcome) {
	p := o.Plan
	switch p.Action {
	case ActionDelete:
		// 404: gone already (a retried DELETE whose first answer was lost).
		if err := nodes.Delete(ctx, client, p.Existing.UUID).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			o.fail(openstack.Describe(err, "delete node"))
			return
		}
		o.Changed, o.ProvisionState, o.Ports = true, "", nil
		return
	case ActionCreate:
		created, err := createNode(ctx, client, p.CreateBody)
		if err != nil {
			o.fail(openstack.Describe(err, "create node"))
			return
		}
		o.Changed, o.UUID, o.ProvisionState = true, created.UUID, created.ProvisionState
	}
	if len(p.Patch) > 0 {
		updated, err := updateNode(ctx, client, o.UUID, p.Patch)
		if err != nil {
			o.fail(openstack.Describe(err, "update node"))
			return
		}
		o.Changed, o.ProvisionState = true, updated.ProvisionState
	}
	if err := applyPorts(ctx, client, o); err != nil {
		o.fail(err)
		return
	}
	if p.Manage {
		if err := manage(ctx, client, o.UUID); err != nil {
			o.fail(openstack.Describe(err, "manage"))
			return
		}
		o.Changed, o.ProvisionState = true, stateVerifying
	}
	o.waiting = p.Wait
}

func applyPorts(ctx context.Context, client *gophercloud.ServiceClient, o *Outcome) error {
	p := o.Plan
	keep := map[string]OutPort{}
	for _, port := range o.Ports {
		keep[port.Address] = port
	}
	for _, d := range p.PortDeletes {
		if err := ports.Delete(ctx, client, d.UUID).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			return openstack.Describe(err, "delete port "+d.Address)
		}
		o.Changed = true
		delete(keep, d.Address)
	}
	for _, pp := range p.PortPatches {
		if _, err := ports.Update(ctx, client, pp.UUID, portOps(pp.Ops)).Extract(); err != nil {
			return openstack.Describe(err, "update port "+pp.Address)
		}
		o.Changed = true
	}
	for _, c := range p.PortCreates {
		created, err := createPort(ctx, client, ports.CreateOpts{
			NodeUUID:            o.UUID,
			Address:             c.Address,
			PhysicalNetwork:     deref(c.PhysicalNetwork),
			LocalLinkConnection: c.LocalLinkConnection,
			PXEEnabled:          c.PXEEnabled,
		})
		if err != nil {
			return openstack.Describe(err, "create port "+c.Address)
		}
		o.Changed = true
		keep[c.Address] = OutPort{UUID: created.UUID, Address: created.Address}
	}
	o.Ports = o.Ports[:0]
	for _, port := range keep {
		o.Ports = append(o.Ports, port)
	}
	sortPorts(o.Ports)
	return nil
}

// waitVerifying polls until every awaited node has left verifying: one
// node list per round for all of them, the interval growing from 200 ms to
// opts.PollInterval. A node back in enroll failed its BMC validation:
// Ironic's last_error says why.
func waitVerifying(ctx context.Context, client *gophercloud.ServiceClient, out []*Outcome, opts Options) {
	pending := map[string]*Outcome{}
	for _, o := range out {
		if o.waiting && !o.Failed() && o.UUID != "" {
			pending[o.UUID] = o
		}
	}
	if len(pending) == 0 {
		return
	}
	maxInterval := opts.PollInterval
	if maxInterval <= 0 {
		maxInterval = 2 * time.Second
	}
	pace := poll.Backoff{First: 200 * time.Millisecond, Max: maxInterval, Growth: 1.5, WaitFirst: true}
	err := poll.Until(ctx, pace, func(ctx context.Context) (bool, error) {
		states, err := listStates(ctx, client)
		if err != nil {
			if ctx.Err() != nil {
				return false, nil // the wait's end, reported below
			}
			return false, err
		}
		for _, id := range settle(pending, states) {
			// Ironic's conductor restarted and failed the verify it was
			// running: not the BMC's fault; ask again.
			if err := manage(ctx, client, id); err != nil {
				pending[id].fail(fmt.Errorf("BMC validation was interrupted by an Ironic conductor restart (%s), and asking again failed: %w",
					pending[id].LastError, openstack.Describe(err, "manage")))
				delete(pending, id)
			}
		}
		return len(pending) == 0, nil
	})
	for _, o := range pending {
		if ctx.Err() != nil {
			o.fail(fmt.Errorf("timed out waiting for manageable, still %q (BMC validation not finished)", o.ProvisionState))
		} else if err != nil {
			o.fail(fmt.Errorf("waiting for manageable: %w", openstack.Describe(err, "list nodes")))
		}
	}
}

// conductorRestarted is Ironic's last_error for a verify its conductor
// failed when it started again ("The verifying state can't be resumed by
// conductor X. Moving to enroll state.": ironic/conductor/base_manager.py).
var conductorRestarted = regexp.MustCompile(`can't be resumed by conductor`)

// maxVerifyResumes bounds how often one node's interrupted verify is asked again.
const maxVerifyResumes = 2

// settle records each pending node's state and drops those done waiting:
// manageable, failed validation (back in enroll), or moved on by another
// actor. It returns the nodes whose verify a conductor restart failed,
// still pending: manage is to be sent again.
func settle(pending map[string]*Outcome, states map[string]nodeState) (again []string) {
	for id, o := range pending {
		st, ok := states[id]
		if !ok {
			o.fail(fmt.Errorf("node %s disappeared while waiting for manageable", id))
			delete(pending, id)
			continue
		}
		o.ProvisionState, o.LastError = st.ProvisionState, st.LastError
		switch {
		case st.ProvisionState == StateManageable && st.TargetProvisionState == "":
			delete(pending, id)
		case st.ProvisionState == StateEnroll && st.TargetProvisionState == "" &&
			conductorRestarted.MatchString(st.LastError) && o.verifyResumes < maxVerifyResumes:
			o.verifyResumes++
			again = append(again, id)
		case st.ProvisionState == StateEnroll && st.TargetProvisionState == "":
			detail := st.LastError
			switch {
			case detail == "":
				o.fail(errors.New("BMC validation failed, the node stays in enroll: no last_error reported"))
			case conductorRestarted.MatchString(detail):
				o.fail(fmt.Errorf("the node stays in enroll: Ironic conductor restarts interrupted its BMC validation %d times: %s", o.verifyResumes+1, detail))
			default:
				o.fail(fmt.Errorf("BMC validation failed, the node stays in enroll: %s", detail))
			}
			delete(pending, id)
		case st.ProvisionState != stateVerifying && st.TargetProvisionState == "":
			delete(pending, id) // moved on (another actor): nothing left to wait for
		}
	}
	return again
}

type nodeState struct {
	UUID                 string `json:"uuid"`
	ProvisionState       string `json:"provision_state"`
	TargetProvisionState string `json:"target_provision_state"`
	LastError            string `json:"last_error"`
}

func listStates(ctx context.Context, client *gophercloud.ServiceClient) (map[string]nodeState, error) {
	states := map[string]nodeState{}
	opts := nodes.ListOpts{Fields: []string{"uuid", "provision_state", "target_provision_state", "last_error"}}
	err := nodes.List(client, opts).EachPage(ctx, func(_ context.Context, page pagination.Page) (bool, error) {
		var batch []nodeState
		if err := nodes.ExtractNodesInto(page, &batch); err != nil {
			return false, err
		}
		for _, s := range batch {
			states[s.UUID] = s
		}
		return true, nil
	})
	return states, err
}

type createOpts map[string]any

func (c createOpts) ToNodeCreateMap() (map[string]any, error) { return c, nil }

func nodeOps(ops []PatchOp) nodes.UpdateOpts {
	out := make(nodes.UpdateOpts, len(ops))
	for i, op := range ops {
		out[i] = op
	}
	return out
}

func portOps(ops []PatchOp) ports.UpdateOpts {
	out := make(ports.UpdateOpts, len(ops))
	for i, op := range ops {
		out[i] = op
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
