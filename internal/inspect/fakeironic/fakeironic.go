// Package fakeironic is the former path of the fake Ironic, now
// internal/ironicfake. It forwards, holding no code of its own, only while
// modules/ironic_introspect's tests still import it; delete it once they
// import internal/ironicfake.
//
// Deprecated: use github.com/metalkit/baremetal/internal/ironicfake.
package fakeironic

import (
	"testing"

	"github.com/metalkit/baremetal/internal/ironicfake"
)

// Server is ironicfake.Server.
type Server = ironicfake.Server

// New is ironicfake.New.
func New(t testing.TB) *Server { return ironicfake.New(t) }

// Field is ironicfake.Field.
func Field(key string, v any) ironicfake.Option { return ironicfake.Field(key, v) }

// Maintenance is ironicfake.Maintenance.
func Maintenance(reason string) ironicfake.Option { return ironicfake.Maintenance(reason) }

// ManageError is ironicfake.ManageError.
func ManageError(msg string) ironicfake.Option { return ironicfake.ManageError(msg) }
