// Package workflows holds the farm's Temporal workflows: creating,
// deleting and restoring a wiki, wiki requests and setting changes, each
// a process definition run by the engine with its approval gate, and the
// replay tests of their recorded histories.
package workflows
