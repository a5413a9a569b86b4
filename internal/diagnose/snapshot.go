// Package diagnose is the "No valid host was found" doctor: from one observed
// snapshot of Nova, Ironic and Placement it tells, for every Ironic node, why
// Nova could not (or could) put a server of a given flavor on it, and sums it
// up in one line an operator can act on.
//
// Diagnose is pure over a Snapshot, so every case is a table test; Observe
// is the thin layer that fills a Snapshot through gophercloud.
package diagnose

// Snapshot is everything the doctor looks at, observed at one moment.
type Snapshot struct {
	// Server is the server that failed (nil for an on-demand diagnosis).
	Server *Server
	// Flavor is the flavor asked for, with its extra specs.
	Flavor Flavor
	// Request holds what the boot request asked beyond the flavor.
	Request Request
	// Nodes are every Ironic node Nova could use.
	Nodes []Node
	// Placement is Placement's view; nil when it could not be read.
	Placement *Placement
	// Hypervisors is Nova's hypervisor list; only meaningful when HypervisorsListed.
	Hypervisors       []Hypervisor
	HypervisorsListed bool
	// ScheduledTo are the providers Placement holds the Unclaimed server's
	// allocation on: the scheduler picked them and no nova-compute took it.
	ScheduledTo []string
	// Notes say what could not be observed and why (e.g. "hypervisor list needs admin").
	Notes []string
}

// Server is the part of a Nova server the doctor reads.
type Server struct {
	ID     string
	Name   string
	Status string
	// Node is the Ironic node UUID the server landed on (hypervisor_hostname), if any.
	Node  string
	Fault *Fault
	// Unclaimed: scheduled or being scheduled, but on no compute host yet.
	Unclaimed bool
}

// Fault is a Nova server fault.
type Fault struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details string `json:"details,omitempty"`
}

// Flavor is a Nova flavor with its extra specs.
type Flavor struct {
	ID         string
	Name       string
	VCPUs      int
	RAM        int // MiB
	Disk       int // GiB
	Ephemeral  int // GiB
	Swap       int // MiB
	ExtraSpecs map[string]string
}

// Request is what the boot request asked beyond the flavor.
type Request struct {
	// PinnedNode is the node named by an availability zone "zone:host:node"
	// (UUID or name); empty when not pinned.
	PinnedNode string
	// PinnedHost is the compute host named by "zone:host[:node]".
	PinnedHost string
	// ConfigDrive and NoNetworks together hit Nova 26's ironic driver bug.
	ConfigDrive bool
	NoNetworks  bool
}

// Node is the part of an Ironic node the doctor reads.
type Node struct {
	UUID                 string
	Name                 string
	ProvisionState       string
	TargetProvisionState string
	PowerState           string // "" when Ironic reports null
	Maintenance          bool
	MaintenanceReason    string
	InstanceUUID         string
	ResourceClass        string
	// Properties are Ironic's node properties (cpus, memory_mb, local_gb,
	// cpu_arch, capabilities as "k:v,k:v" or a dict).
	Properties map[string]any
	Traits     []string
	LastError  string
	Retired    bool
}

// Placement is Placement's view of the Ironic nodes.
type Placement struct {
	// Providers are the resource providers, by UUID (an Ironic node's
	// provider carries the node's UUID).
	Providers map[string]ResourceProvider
	// Candidates are the providers Placement offers for the flavor's
	// resources and traits; nil when allocation candidates were not asked.
	Candidates map[string]bool
	// CandidatesQuery is the query sent, for the report.
	CandidatesQuery string
	// UnknownClasses are resource classes the flavor asks for that Placement
	// has never heard of (no node of that class was ever reported by Nova).
	UnknownClasses []string
}

// ResourceProvider is one Placement resource provider with its inventory.
// Inventories is nil when it was not read (a node of another class).
type ResourceProvider struct {
	UUID        string
	Name        string
	Inventories map[string]Inventory
	Usages      map[string]int
	Traits      []string
}

// Inventory is one resource class of a provider.
type Inventory struct {
	Total           int     `json:"total"`
	Reserved        int     `json:"reserved"`
	MinUnit         int     `json:"min_unit"`
	MaxUnit         int     `json:"max_unit"`
	StepSize        int     `json:"step_size"`
	AllocationRatio float64 `json:"allocation_ratio"`
}

// Hypervisor is one Nova hypervisor; for Ironic its hostname is the node UUID.
type Hypervisor struct {
	ID       string
	Hostname string
	Host     string // compute service host
	State    string // up / down
	Status   string // enabled / disabled
}
