//go:build race

package server_test

// raceEnabled: the race detector inlines less, so allocation counts differ
// from a normal build's (.ci/run checks them without it).
const raceEnabled = true
