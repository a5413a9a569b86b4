// Package nodeaction carries out the remedies the diagnosis names on one
// Ironic node: maintenance on or off (with a reason), power on, off or a
// reboot, and the node's resource class, capabilities (merged key by key)
// and traits. The shape is the one of every concern package:
//
//	desired.go  the operator's request, checked before any call (Desired)
//	observe.go  read the node (by name or UUID)
//	plan.go     desired vs observed -> Plan (pure, table-tested): only what differs
//	apply.go    run the plan in a safe order, wait for power changes
//
// Order: entering maintenance comes first (Nova stops using the node before
// anything else changes), leaving it comes last (the node goes back to Nova
// once it is fixed). It knows nothing of Ansible: the module maps its
// options onto Desired.
package nodeaction
