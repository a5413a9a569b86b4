// Package ignition renders and validates Ignition configs for RHCOS hosts
// booted as Nova bare-metal servers. It knows nothing of Ansible or
// OpenStack: the ignition_render module wraps it.
//
// Specs 3.0.0 to 3.5.0 are built with github.com/coreos/ignition/v2's
// version-specific types, merged over an optional base with that version's
// Merge and checked with its validator (errors name the JSON path). Spec
// 2.2.0 (OpenShift <= 4.5) is emitted from our own small types and checked
// with our own copy of its rules, because the library that has it cannot be
// built beside ignition/v2.
//
// Inputs are checked first in the module's terms, so an error reads
// "users[0].ssh_authorized_keys[1]: malformed SSH public key: ...".
//
// Nova caps user data at 65535 bytes of base64 text (about 49 KiB of JSON).
// A config over the limit gets its inline file contents and (3.1+) CA
// bundles gzip-compressed; one still too large fails with ErrTooLarge and a
// hint to use a pointer config (merge/replace from an HTTP(S) source).
//
// Ignition ignores Nova keypairs: SSH keys must be in the config.
package ignition
