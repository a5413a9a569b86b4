// Package ansible implements Ansible's binary-module protocol: it reads the
// args file named by argv[1], validates it against a declarative spec with
// AnsibleModule's rules and wording, runs the module and prints one JSON
// result with every no_log value scrubbed.
//
// A module's main.go is one call:
//
//	func main() { ansible.Run(spec, run) }
//
// where spec declares the options (types, defaults, choices, aliases,
// no_log, env fallbacks, sub-options, the cross-option rules) and the
// documentation, and run gets a *Module with validated Params and returns a
// *Result or an error (a *Failure to carry extra result keys).
//
// Option.NoLogKey has no Ansible counterpart. A free-form dict option (or a
// list of them) has no sub-options to mark no_log, yet may carry secrets
// (ironic_enroll's nodes: instackenv entries with pm_password and arbitrary
// driver_info keys). NoLogKey is a predicate on dict keys, called with the
// key as written (case-sensitive unless the predicate folds case): wherever
// the option's value holds a dict, at any depth, the value of each accepted
// key is a no_log value. The values are registered where Ansible collects
// no_log values (_list_no_log_values, before any check can fail), both as
// given and in the form the type check will produce (a dict written as
// "k=v" or JSON text), and again after coercion; they are then scrubbed by
// the same remove_values pass as every other no_log value: in invocation
// and the whole result, on every failure path and on success, and wherever
// the same text appears (another option's value, a message). As for no_log,
// a value that is a dict or list is a secret whole, numbers count by their
// text, and falsy values (0, "") and booleans are no secrets. It is not
// part of ArgumentSpec (the oracle's Python never sees it) nor of the docs.
//
// Validation is a port of ansible-core 2.14's ArgumentSpecValidator and
// _validate_sub_spec: the same steps in the same order, the same coercions
// (Python's str(), int(), float(), bool and dict parsing, path expansion),
// the same messages, the same params echoed in `invocation`. Options are
// visited in sorted order, the order ArgumentSpec hands to Python. The
// oracle test (oracle_test.go) runs well over a hundred argument cases
// through Debian's ansible-core and through Execute and requires identical
// results.
//
// Where this package knowingly differs from ansible-core 2.14:
//   - Unknown _ansible_* keys are ignored (2.14 would call them
//     unsupported; newer controllers send keys 2.14 does not know).
//   - No_log values are also collected in their coerced form (a no_log int
//     given as "0042", a no_log path given as "~/key"), and after a
//     malformed sub-option value; Ansible would show those. So we may mask
//     more, never less.
//   - Where ansible-core crashes with a traceback (non-string items failing
//     list choices; a dict with sub-options given an int), we report a
//     validation error in Ansible's wording.
//   - Dicts have no insertion order in Go: str() of a dict, the json type's
//     text of a dict, and the result JSON list keys sorted. Secrets are
//     replaced longest first (Ansible iterates a set: any order is its).
//   - The boolean error lists the valid booleans in the order ansible-core
//     prints with PYTHONHASHSEED=0 (its order depends on the hash seed).
//   - With several unsupported parameters in different sub-options, the
//     "Supported parameters include" list is the one of the last name in
//     sorted order (Ansible picks by set iteration order).
//   - Python int(), float() and literal_eval accept non-ASCII digits; we do
//     not. Python's literal_eval also accepts complex numbers and bytes
//     (rejected / taken as text here). Integers beyond int64 are kept as
//     json.Number.
//   - Deprecated aliases and removed_in_version options are not supported.
//   - Option.NoLogKey (above) masks values inside free-form dicts; ansible-core
//     can only mark whole options or declared sub-options no_log.
package ansible
