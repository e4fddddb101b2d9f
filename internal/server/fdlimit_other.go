//go:build !unix

package server

// openFileLimit is unknown here: no limit but DefaultMaxConnections' own.
func openFileLimit() int { return 1 << 30 }
