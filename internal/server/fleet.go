package server

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/metalkit/baremetal/internal/diagnose"
	"github.com/metalkit/baremetal/internal/poll"
	"github.com/metalkit/baremetal/internal/pool"
)

// Fleet is how a task's servers are run together.
type Fleet struct {
	Concurrency int
	Failfast    bool
	// WaitForCapacity waits (within the task's deadline) until Placement
	// offers every flavor on as many nodes as servers of it to create.
	WaitForCapacity bool
}

// Observe reads what every server needs, Concurrency at a time, and plans
// each: the pre-flight of the whole fleet. Problems are the pre-flight
// failures, "servers[i] (name): problem": while any is left nothing may be
// created.
func (f Fleet) Observe(ctx context.Context, c Clients, ds []Desired) (members []*Member, problems []string, err error) {
	members = make([]*Member, len(ds))
	errs := make([]error, len(ds))
	all := make([]int, len(ds))
	for i := range all {
		all[i] = i
	}
	pool.Run(all, f.Concurrency, false, false, func(i int) bool {
		o, err := Observe(ctx, c, ds[i])
		members[i] = &Member{Desired: ds[i], Observed: o, Plan: MakePlan(ds[i], o)}
		errs[i] = err
		return err != nil
	}, func(int) {})
	for i, m := range members {
		if errs[i] != nil {
			return nil, nil, fmt.Errorf("%s: %w", f.label(i, m), errs[i])
		}
		for _, p := range m.Observed.Problems {
			problems = append(problems, f.label(i, m)+": "+p)
		}
	}
	return members, problems, nil
}

func (f Fleet) label(i int, m *Member) string {
	return fmt.Sprintf("servers[%d] (%s)", i, m.Desired.Name)
}

// Capacity is what the capacity check found for one flavor.
type Capacity struct {
	Flavor    string  `json:"flavor"`
	Needed    int     `json:"needed"`
	Available int     `json:"available"`
	Waited    float64 `json:"waited_seconds"`
}

// CheckCapacity counts, per flavor, the servers to create (not those
// recreated: see waitFreedNode) and the nodes
// Placement offers the flavor on (allocation candidates), waiting for
// enough with WaitForCapacity. The servers beyond what a flavor can get
// fail here, diagnosed, before anything is created for them: Nova would
// only put them in ERROR ("No valid host was found").
func (f Fleet) CheckCapacity(ctx context.Context, c Clients, members []*Member) ([]Capacity, []string) {
	if c.Placement == nil {
		return nil, []string{fmt.Sprintf("the capacity check is skipped: Placement is not reachable (%v)", c.PlacementErr)}
	}
	byFlavor := map[string][]*Member{}
	var order []string
	for _, m := range members {
		// A recreate frees its own node first; it waits for it after its
		// delete (Apply), not here, where that node still counts as taken.
		if m.Plan.Has(ActionCreate) && !m.Plan.Has(ActionDelete) && m.Observed.Flavor != nil && !m.Failed {
			id := m.Observed.Flavor.ID
			if _, seen := byFlavor[id]; !seen {
				order = append(order, id)
			}
			byFlavor[id] = append(byFlavor[id], m)
		}
	}
	var report []Capacity
	var warnings []string
	for _, id := range order {
		group := byFlavor[id]
		flavor := *group[0].Observed.Flavor
		capa := Capacity{Flavor: flavor.Name, Needed: len(group)}
		start := time.Now()
		look := func(ctx context.Context) (bool, error) {
			n, err := diagnose.Capacity(ctx, c.Placement, flavor)
			capa.Available = n
			return err != nil || n >= capa.Needed, err
		}
		var err error
		if f.WaitForCapacity {
			err = poll.Until(ctx, capacityPace, look)
		} else {
			_, err = look(ctx)
		}
		capa.Waited = float64(time.Since(start).Milliseconds()) / 1000
		report = append(report, capa)
		if err != nil && ctx.Err() == nil {
			warnings = append(warnings, fmt.Sprintf("flavor %s: the capacity check could not read Placement: %v", flavor.Name, err))
			continue
		}
		short := capa.Needed - capa.Available
		if short <= 0 {
			continue
		}
		// The last ones asked go without: the order of servers is the
		// operator's order of importance (control plane first).
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DiagnoseBudget)
		for _, m := range group[len(group)-short:] {
			diag := Diagnose(dctx, c, m.Desired, m.Observed, nil)
			m.Values["diagnosis"] = diag
			m.Values["actions"] = []string{}
			m.Changed = false
			m.fail(fmt.Sprintf("not created: Placement offers flavor %s on %d node(s) for %d server(s): %s",
				flavor.Name, capa.Available, capa.Needed, diag.Summary))
		}
		cancel()
	}
	return report, warnings
}

// capacityPace: Nova's resource tracker reports a node provided a moment
// ago within its update interval (60 s by default); look every few seconds.
var capacityPace = poll.Backoff{First: time.Second, Max: 5 * time.Second, Growth: 1.5}

// Apply runs the members not settled yet, Concurrency at a time.
func (f Fleet) Apply(ctx context.Context, c Clients, members []*Member) {
	var todo []int
	failedBefore := false
	for i, m := range members {
		if m.Failed {
			failedBefore = true
		} else if m.Outcome == nil && m.Msg == "" {
			todo = append(todo, i)
		}
	}
	pool.Run(todo, f.Concurrency, f.Failfast, failedBefore, func(i int) bool {
		members[i].Apply(ctx, c)
		return members[i].Failed
	}, func(i int) {
		members[i].Values["actions"] = []string{}
		members[i].fail("not started: failfast is set and another server failed")
	})
}

// Summary words the fleet's outcome: "5 servers: 4 created, 1 unchanged".
func Summary(members []*Member, check bool) string {
	counts := map[string]int{}
	for _, m := range members {
		counts[memberVerb(m, check)]++
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
	}
	return fmt.Sprintf("%d servers: %s", len(members), strings.Join(parts, ", "))
}

func memberVerb(m *Member, check bool) string {
	switch {
	case m.Failed:
		return "failed"
	case !m.Changed:
		return "unchanged"
	case check:
		return "to " + strings.Join(ActionNames(m.Plan.Actions), "+")
	case m.Plan.Has(ActionCreate) && m.Plan.Has(ActionDelete):
		return "recreated"
	case m.Plan.Has(ActionCreate):
		return "created"
	case m.Plan.Has(ActionDelete):
		return "deleted"
	}
	return "updated"
}
