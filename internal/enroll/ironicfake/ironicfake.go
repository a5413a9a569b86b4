// Package ironicfake is the former path of the fake Ironic, now
// internal/ironicfake. It forwards, holding no code of its own, only while
// modules/ironic_enroll's tests still import it; delete it once they import
// internal/ironicfake.
//
// Deprecated: use github.com/metalkit/baremetal/internal/ironicfake.
package ironicfake

import (
	"testing"

	"github.com/metalkit/baremetal/internal/ironicfake"
)

// Server is ironicfake.Server.
type Server = ironicfake.Server

// BadPassword is ironicfake.BadPassword.
const BadPassword = ironicfake.BadPassword

// New is ironicfake.New.
func New(t testing.TB) *Server { return ironicfake.New(t) }
