// Package inspect moves Ironic nodes through manage -> inspect -> (provide)
// many at a time, and says exactly what happened to each.
//
// It has the project's one shape: Observe reads the nodes, Plan (pure) turns
// one observed node and the desired outcome into an ordered list of steps,
// and Apply runs those steps for every node in a bounded worker pool,
// re-observing and re-planning after every step so that a node moved by
// someone else, a lock held by another operation or a failed step is seen
// and handled (abort, wait for the lock to clear, retry) rather than assumed.
package inspect
