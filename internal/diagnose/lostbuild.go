package diagnose

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/placement/v1/allocations"

	"github.com/metalkit/baremetal/internal/openstack"
)

// LostBuildAfter is how long a server may sit scheduled but untaken before
// it counts as a lost build. The hand-off from scheduler to nova-compute
// takes seconds; a nova-compute busy with max_concurrent_builds (10) other
// builds can keep one waiting longer, so this only ever leads to a recreate
// the operator asked for (recreate_on_error) on a server an earlier run left.
const LostBuildAfter = 2 * time.Minute

// Unclaimed tells a server the scheduler placed but no nova-compute took:
// BUILD, task state still "scheduling", on no host. Whether Placement holds
// an allocation for it (the scheduler's pick) is for ScheduledTo.
func Unclaimed(s *servers.Server) bool {
	return s.Status == "BUILD" && s.TaskState == "scheduling" && s.HypervisorHostname == "" && s.Host == ""
}

// ScheduledTo lists the resource providers (for Ironic: node UUIDs) that
// hold Placement allocations for consumer id, sorted.
func ScheduledTo(ctx context.Context, placement *gophercloud.ServiceClient, id string) ([]string, error) {
	seg, err := openstack.PathSegment(id)
	if err != nil {
		return nil, err
	}
	a, err := allocations.Get(ctx, placement, seg).Extract()
	if err != nil {
		return nil, openstack.Describe(err, "allocations of "+id)
	}
	var out []string
	for rp := range a.Allocations {
		out = append(out, rp)
	}
	sort.Strings(out)
	return out, nil
}

// LostBuildText says what an unclaimed, scheduled server means.
func LostBuildText(name string, providers []string) string {
	return "the scheduler placed server " + name + " (Placement holds its allocation on " + strings.Join(providers, ", ") +
		") but no nova-compute took it: its build request was lost on the way, as when RabbitMQ restarts mid-build" +
		" (or nova-compute is still busy with other builds)"
}
