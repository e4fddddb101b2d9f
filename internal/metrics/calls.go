package metrics

import (
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Protocol is an RPC protocol, as the protocol label names it.
type Protocol uint8

// The protocols Calls tells apart.
const (
	ProtocolOther   Protocol = iota // none of the others ("other")
	ProtocolGRPC                    // gRPC ("grpc")
	ProtocolGRPCWeb                 // gRPC-Web, binary or text ("grpc_web")
	ProtocolConnect                 // Connect, unary (POST or GET) or streaming ("connect")
	ProtocolREST                    // REST, transcoded into an RPC ("rest")
	protocols
)

var protocolNames = [protocols]string{"other", "grpc", "grpc_web", "connect", "rest"}

func (p Protocol) String() string { return protocolNames[p] }

// system returns OpenTelemetry's rpc.system.name of p.
func (p Protocol) system() string {
	if p == ProtocolGRPC || p == ProtocolGRPCWeb {
		return "grpc"
	}
	return "connectrpc"
}

// Code is an RPC's status code, numbered as gRPC numbers them: 0 is OK, the
// others are connect.Code's values.
type Code uint8

// codes are the names of the codes, as gRPC spells them (semconv's
// rpc.response.status_code).
var codes = [...]string{
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
	"PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
	"UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
}

// CodeUnknown is the code of a call whose code cannot be told.
const CodeUnknown Code = 2

// other is rpc_method's value for a method that is not one of Calls'.
const other = "_OTHER"

// Calls measures the RPCs of a fixed set of methods, and calls of any other
// as "_OTHER".
type Calls struct {
	vec     *prometheus.HistogramVec
	methods []string          // rpc_method values by index; the last is "_OTHER"
	index   map[string]Method // by procedure, "/package.Service/Method"
	series  []atomic.Pointer[series]
}

// Method is the index of a method of Calls, from Method.
type Method uint16

// series is one labelled histogram, bound once.
type series struct {
	observer prometheus.Observer
	exemplar prometheus.ExemplarObserver
}

// Calls returns the measure of the RPCs named by procedures
// ("/package.Service/Method"). Every Calls of m shares m's histogram.
func (m *Metrics) Calls(procedures []string) *Calls {
	c := &Calls{vec: m.calls, index: make(map[string]Method, len(procedures))}
	for _, p := range procedures {
		if _, ok := c.index[p]; !ok {
			c.index[p] = Method(len(c.methods))
			c.methods = append(c.methods, strings.TrimPrefix(p, "/"))
		}
	}
	c.methods = append(c.methods, other)
	c.series = make([]atomic.Pointer[series], len(c.methods)*int(protocols)*len(codes))
	return c
}

// Method returns the method of procedure, "/package.Service/Method", and
// whether it is one of c's; any other is "_OTHER".
func (c *Calls) Method(procedure string) (Method, bool) {
	if m, ok := c.index[procedure]; ok {
		return m, true
	}
	return Method(len(c.methods) - 1), false
}

// Observe records a call of method in protocol p that ended with code after
// d. A non-empty traceID (a sampled trace's) is kept as the exemplar of the
// bucket the call falls in.
func (c *Calls) Observe(method Method, p Protocol, code Code, d time.Duration, traceID string) {
	if int(method) >= len(c.methods) || p >= protocols || int(code) >= len(codes) {
		method, p, code = Method(len(c.methods)-1), ProtocolOther, CodeUnknown
	}
	i := (int(method)*int(protocols)+int(p))*len(codes) + int(code)
	s := c.series[i].Load()
	if s == nil {
		s = c.bind(i, method, p, code)
	}
	if traceID != "" && s.exemplar != nil {
		s.exemplar.ObserveWithExemplar(d.Seconds(), prometheus.Labels{"trace_id": traceID})
		return
	}
	s.observer.Observe(d.Seconds())
}

// bind makes the series of index i, once.
func (c *Calls) bind(i int, method Method, p Protocol, code Code) *series {
	errorType := ""
	if code != 0 {
		errorType = codes[code]
	}
	o := c.vec.WithLabelValues(p.system(), c.methods[method], p.String(), codes[code], errorType)
	e, _ := o.(prometheus.ExemplarObserver)
	s := &series{observer: o, exemplar: e}
	if !c.series[i].CompareAndSwap(nil, s) {
		return c.series[i].Load()
	}
	return s
}
