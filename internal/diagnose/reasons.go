package diagnose

// Reason codes. Flavor-level ones rule out every node; node-level ones one node.
const (
	CodeFlavorNoResourceClass     = "flavor_no_resource_class"
	CodeFlavorManyResourceClasses = "flavor_many_resource_classes"
	CodeFlavorResourceAmount      = "flavor_resource_amount"
	CodeFlavorNotZeroed           = "flavor_not_zeroed"
	CodeFlavorCustomCustom        = "flavor_custom_custom"
	CodeFlavorBadSpec             = "flavor_bad_spec"
	CodeFlavorGrouped             = "flavor_grouped_resources"

	CodePinnedElsewhere     = "pinned_elsewhere"
	CodeHasInstance         = "has_instance"
	CodeHostsThisServer     = "hosts_this_server"
	CodeMaintenance         = "maintenance"
	CodeNotAvailable        = "not_available"
	CodePowerState          = "power_state"
	CodeNoResourceClass     = "no_resource_class"
	CodeCustomCustom        = "custom_custom_resource_class"
	CodeResourceClass       = "resource_class"
	CodeCapability          = "capability"
	CodeCapabilityMalformed = "capability_malformed"
	CodeTraitMissing        = "trait_missing"
	CodeTraitForbidden      = "trait_forbidden"
	CodeTooSmall            = "too_small"
	CodeNotDiscovered       = "not_discovered"
	CodeComputeDown         = "compute_down"
	CodeComputeDisabled     = "compute_disabled"
	CodeNoResourceProvider  = "no_resource_provider"
	CodeInventoryMissing    = "inventory_missing"
	CodeInventoryReserved   = "inventory_reserved"
	CodeInventoryUsed       = "inventory_used"
	CodeNotCandidate        = "not_candidate"
	CodeLastError           = "last_error"
)

// Reason is one thing that stops (Blocking) or may trouble a node or flavor.
type Reason struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	Blocking bool   `json:"blocking"`
	// Short groups nodes in the one-line summary ("in maintenance").
	Short string `json:"-"`
	// Fix is the task that removes the reason, for the summary's group
	// (its nodes are named there): "metalkit.baremetal.ironic_node_action maintenance=false".
	Fix string `json:"-"`
	// Capability detail, counted in the summary as metalsmith does.
	Key     string `json:"-"`
	Wanted  string `json:"-"`
	Have    string `json:"-"`
	HaveSet bool   `json:"-"`
}
