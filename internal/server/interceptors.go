package server

import "connectrpc.com/connect"

// chain composes interceptors into one, the first outermost, as
// connect.WithInterceptors orders them. connect-go wraps every interceptor
// it is given in a thunk that looks up two client-side context keys, which
// a handler never has: each lookup walks the whole context of the call
// (bench/README.md, "Counted": about 190 instructions a walk). Given one
// interceptor, it makes one such thunk a call instead of one per
// interceptor.
func chain(interceptors ...connect.Interceptor) connect.Interceptor {
	return chained(interceptors)
}

type chained []connect.Interceptor

func (c chained) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	for i := len(c) - 1; i >= 0; i-- {
		next = c[i].WrapUnary(next)
	}
	return next
}

func (c chained) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	for i := len(c) - 1; i >= 0; i-- {
		next = c[i].WrapStreamingClient(next)
	}
	return next
}

func (c chained) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	for i := len(c) - 1; i >= 0; i-- {
		next = c[i].WrapStreamingHandler(next)
	}
	return next
}
