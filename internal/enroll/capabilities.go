package enroll

import "github.com/metalkit/baremetal/internal/capabilities"

// Capabilities are a node's properties/capabilities ("k:v,k:v"), kept in
// order and merged key by key: one implementation, in internal/capabilities.
type (
	Capabilities = capabilities.Capabilities
	Capability   = capabilities.Capability
)

// ParseCapabilities reads a "k:v,k:v" string or a dict.
var ParseCapabilities = capabilities.Parse
