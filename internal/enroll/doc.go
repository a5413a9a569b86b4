// Package enroll puts instackenv node definitions into Ironic: parse and
// validate every node first, then for each node observe (find it by name,
// else by its BMC, else by a port's MAC, as tripleo-common does), plan (only the JSON-patch operations whose values
// differ; properties and capabilities merged key by key; passwords only when
// asked) and apply (a bounded worker pool).
//
// The shape is the same in every concern package:
//
//	instackenv.go  parse + validate the operator's input (Node, Port)
//	drivers.go     pm_type -> hardware type, driver_info keys, mandatory fields
//	observe.go     read what Ironic has (two list calls for any number of nodes)
//	plan.go        desired vs observed -> Plan (pure, table-tested)
//	apply.go       run the plans: create, patch, ports, manage, wait, delete
//
// It knows nothing of Ansible: the module maps its options onto Options.
package enroll
