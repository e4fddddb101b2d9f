//go:build bloat

package main

import (
	"net/http"

	"github.com/hellorpc/hellorpc/internal/server"
)

// With -tags bloat, the "bloat" lever builds a whole hellorpc server
// (server.New) and routes only /hellorpc/ to it: hello-server's code in the
// binary and its objects in the heap, none of its work in a call to the bare
// handler. Against the bare peer, it measures what the size alone costs.
func init() {
	levers["bloat"] = "a whole hellorpc server (server.New) in the binary and the heap, serving only /hellorpc/ (build with -tags bloat)"
	bloat = func(mux *http.ServeMux) {
		mux.Handle("/hellorpc/", http.StripPrefix("/hellorpc", server.New(server.Config{})))
	}
}
