package inspect

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/metalkit/baremetal/internal/openstack"
	"github.com/metalkit/baremetal/internal/pool"
)

// Selection says which nodes a task handles: named ones, or every node in a state.
type Selection struct {
	// Nodes are names or UUIDs.
	Nodes []string
	// AllInState selects every node in this provision state (maintenance nodes excepted).
	AllInState string
}

// Observed is the selected nodes as Ironic has them, in selection order,
// and what the operator should know about the selection.
type Observed struct {
	Nodes    []Node
	Warnings []string
}

// NotFoundError lists every selected node Ironic does not know.
type NotFoundError struct{ Nodes []string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("nodes: not found in Ironic: %s", strings.Join(e.Nodes, ", "))
}

// Observe reads the selected nodes, several at a time. Named nodes are read
// one GET each (Ironic accepts a name or a UUID); a node named twice (by
// name and by UUID) is handled once, with a warning. Every unknown name is
// reported in one error.
func Observe(ctx context.Context, client *gophercloud.ServiceClient, sel Selection, concurrency int) (*Observed, error) {
	if sel.AllInState != "" {
		return observeState(ctx, client, sel.AllInState)
	}
	found := make([]*nodes.Node, len(sel.Nodes))
	errs := make([]error, len(sel.Nodes))
	segments := make([]string, len(sel.Nodes))
	for i, ident := range sel.Nodes {
		seg, err := openstack.PathSegment(ident)
		if err != nil {
			return nil, fmt.Errorf("nodes[%d]: %w", i, err)
		}
		segments[i] = seg
	}
	pool.Each(len(sel.Nodes), concurrency, func(i int) {
		found[i], errs[i] = nodes.Get(ctx, client, segments[i]).Extract()
	})

	out := &Observed{}
	var missing []string
	seen := map[string]string{}
	for i, ident := range sel.Nodes {
		switch {
		case gophercloud.ResponseCodeIs(errs[i], http.StatusNotFound):
			missing = append(missing, ident)
			continue
		case errs[i] != nil:
			return nil, openstack.Describe(errs[i], "node "+ident)
		}
		n := FromIronic(found[i])
		if first, dup := seen[n.UUID]; dup {
			out.Warnings = append(out.Warnings, fmt.Sprintf("nodes: %q and %q are the same node (%s); it is handled once", first, ident, n.UUID))
			continue
		}
		seen[n.UUID] = ident
		out.Nodes = append(out.Nodes, n)
	}
	if len(missing) > 0 {
		return nil, &NotFoundError{Nodes: missing}
	}
	return out, nil
}

func observeState(ctx context.Context, client *gophercloud.ServiceClient, state string) (*Observed, error) {
	pages, err := nodes.ListDetail(client, nodes.ListOpts{ProvisionState: nodes.ProvisionState(state)}).AllPages(ctx)
	if err != nil {
		return nil, openstack.Describe(err, fmt.Sprintf("listing nodes in state %q", state))
	}
	list, err := nodes.ExtractNodes(pages)
	if err != nil {
		return nil, openstack.Describe(err, "listing nodes")
	}
	out := &Observed{}
	var skipped []string
	for i := range list {
		n := FromIronic(&list[i])
		if n.Maintenance {
			skipped = append(skipped, n.Label())
			continue
		}
		out.Nodes = append(out.Nodes, n)
	}
	sort.SliceStable(out.Nodes, func(i, j int) bool { return out.Nodes[i].Label() < out.Nodes[j].Label() })
	if len(skipped) > 0 {
		sort.Strings(skipped)
		out.Warnings = append(out.Warnings, fmt.Sprintf("all_in_state %q: skipped %d node(s) in maintenance: %s", state, len(skipped), strings.Join(skipped, ", ")))
	}
	return out, nil
}

// isNotFound covers both a raw gophercloud error and one described by internal/openstack.
func isNotFound(err error) bool {
	var apiErr *openstack.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
		return true
	}
	return gophercloud.ResponseCodeIs(err, http.StatusNotFound)
}
