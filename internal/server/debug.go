package server

import (
	"expvar"
	"net/http"
	"net/http/pprof"
	"runtime"
	"sync"
)

var publishGoroutines sync.Once

// DebugHandler returns the handler of the optional debug listener: expvar at
// /debug/vars (memory statistics and the goroutine count) and pprof at
// /debug/pprof/. It exposes the process's internals, so serve it on a
// loopback address only; it is never part of the Server's handler, and the
// metrics have a listener of their own (package metrics).
func DebugHandler() http.Handler {
	publishGoroutines.Do(func() {
		expvar.Publish("goroutines", expvar.Func(func() any { return runtime.NumGoroutine() }))
	})
	mux := http.NewServeMux()
	mux.Handle("/debug/vars", expvar.Handler())
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
