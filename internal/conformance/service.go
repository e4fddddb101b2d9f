package conformance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	v1 "github.com/hellorpc/hellorpc/internal/conformance/gen/connectrpc/conformance/v1"
	"github.com/hellorpc/hellorpc/internal/conformance/gen/connectrpc/conformance/v1/conformancev1connect"
)

// service answers each call as its request's response definition says, and
// echoes what it received (headers, timeout, query, messages), as the suite
// specifies for a server under test. Unimplemented is left unimplemented.
type service struct {
	conformancev1connect.UnimplementedConformanceServiceHandler
}

var _ conformancev1connect.ConformanceServiceHandler = service{}

func (service) Unary(ctx context.Context, req *connect.Request[v1.UnaryRequest]) (*connect.Response[v1.UnaryResponse], error) {
	payload, err := unary(ctx, req.Msg.GetResponseDefinition(), req.Header(), req.Peer().Query, []proto.Message{req.Msg})
	if err != nil {
		return nil, err
	}
	return respond(&v1.UnaryResponse{Payload: payload}, req.Msg.GetResponseDefinition()), nil
}

func (service) IdempotentUnary(ctx context.Context, req *connect.Request[v1.IdempotentUnaryRequest]) (*connect.Response[v1.IdempotentUnaryResponse], error) {
	payload, err := unary(ctx, req.Msg.GetResponseDefinition(), req.Header(), req.Peer().Query, []proto.Message{req.Msg})
	if err != nil {
		return nil, err
	}
	return respond(&v1.IdempotentUnaryResponse{Payload: payload}, req.Msg.GetResponseDefinition()), nil
}

func (service) ClientStream(ctx context.Context, stream *connect.ClientStream[v1.ClientStreamRequest]) (*connect.Response[v1.ClientStreamResponse], error) {
	var def *v1.UnaryResponseDefinition
	var received []proto.Message
	for stream.Receive() {
		if len(received) == 0 {
			def = stream.Msg().GetResponseDefinition() // the first message's alone counts
		}
		received = append(received, stream.Msg())
	}
	if err := stream.Err(); err != nil {
		return nil, err
	}
	payload, err := unary(ctx, def, stream.RequestHeader(), stream.Peer().Query, received)
	if err != nil {
		return nil, err
	}
	return respond(&v1.ClientStreamResponse{Payload: payload}, def), nil
}

func (service) ServerStream(ctx context.Context, req *connect.Request[v1.ServerStreamRequest], stream *connect.ServerStream[v1.ServerStreamResponse]) error {
	def := req.Msg.GetResponseDefinition()
	if def == nil {
		return nil
	}
	addHeaders(stream.ResponseHeader(), def.GetResponseHeaders())
	addHeaders(stream.ResponseTrailer(), def.GetResponseTrailers())
	info := func() *v1.ConformancePayload_RequestInfo {
		return requestInfo(ctx, req.Header(), req.Peer().Query, []proto.Message{req.Msg})
	}
	if len(def.GetResponseData()) > 0 {
		if err := stream.Send(nil); err != nil { // the headers, at once
			return fmt.Errorf("send headers: %w", err)
		}
	}
	for i, data := range def.GetResponseData() {
		res := &v1.ServerStreamResponse{Payload: &v1.ConformancePayload{Data: data}}
		if i == 0 {
			res.Payload.RequestInfo = info()
		}
		if err := pause(ctx, def.GetResponseDelayMs()); err != nil {
			return err
		}
		if err := stream.Send(res); err != nil {
			return fmt.Errorf("send response %d: %w", i+1, err)
		}
	}
	if def.GetError() == nil {
		return nil
	}
	if len(def.GetResponseData()) == 0 {
		return rpcError(def.GetError(), info())
	}
	return rpcError(def.GetError(), nil)
}

func (service) BidiStream(ctx context.Context, stream *connect.BidiStream[v1.BidiStreamRequest, v1.BidiStreamResponse]) error {
	var (
		def        *v1.StreamResponseDefinition
		fullDuplex bool
		received   []proto.Message // since the last response
		sent       int
	)
	info := func() *v1.ConformancePayload_RequestInfo {
		return requestInfo(ctx, stream.RequestHeader(), stream.Peer().Query, received)
	}
	send := func() error {
		res := &v1.BidiStreamResponse{Payload: &v1.ConformancePayload{Data: def.GetResponseData()[sent]}}
		switch {
		case sent == 0:
			res.Payload.RequestInfo = info()
		case fullDuplex: // the messages received since the last response
			res.Payload.RequestInfo = &v1.ConformancePayload_RequestInfo{Requests: anys(received)}
		}
		if err := pause(ctx, def.GetResponseDelayMs()); err != nil {
			return err
		}
		if err := stream.Send(res); err != nil {
			return fmt.Errorf("send response %d: %w", sent+1, err)
		}
		sent++
		return nil
	}
	for {
		msg, err := stream.Receive()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if len(received) == 0 && sent == 0 { // the first message
			def, fullDuplex = msg.GetResponseDefinition(), msg.GetFullDuplex()
			addHeaders(stream.ResponseHeader(), def.GetResponseHeaders())
			addHeaders(stream.ResponseTrailer(), def.GetResponseTrailers())
			if fullDuplex && len(def.GetResponseData()) > 0 {
				if err := stream.Send(nil); err != nil { // the headers, at once
					return fmt.Errorf("send headers: %w", err)
				}
			}
		}
		received = append(received, msg)
		if !fullDuplex {
			continue
		}
		if sent == len(def.GetResponseData()) {
			break // nothing left to send: the error, if any
		}
		if err := send(); err != nil {
			return err
		}
		received = nil
	}
	if !fullDuplex && len(def.GetResponseData()) > 0 {
		if err := stream.Send(nil); err != nil { // the headers, now the upload is over
			return fmt.Errorf("send headers: %w", err)
		}
	}
	for sent < len(def.GetResponseData()) {
		if err := send(); err != nil {
			return err
		}
	}
	if def.GetError() == nil {
		return nil
	}
	if sent == 0 {
		return rpcError(def.GetError(), info())
	}
	return rpcError(def.GetError(), nil)
}

// unary returns the payload of a unary reply (unary and client-stream
// calls) as def says, or its error, with the headers and trailers def asks
// for (connect-go sends an error's metadata as both).
func unary(ctx context.Context, def *v1.UnaryResponseDefinition, header http.Header, query map[string][]string, received []proto.Message) (*v1.ConformancePayload, error) {
	info := requestInfo(ctx, header, query, received)
	if def.GetError() != nil {
		err := rpcError(def.GetError(), info)
		addHeaders(err.Meta(), def.GetResponseHeaders())
		addHeaders(err.Meta(), def.GetResponseTrailers())
		return nil, err
	}
	if err := pause(ctx, def.GetResponseDelayMs()); err != nil {
		return nil, err
	}
	return &v1.ConformancePayload{RequestInfo: info, Data: def.GetResponseData()}, nil
}

// respond returns msg as a reply with the headers and trailers of def.
func respond[T any](msg *T, def *v1.UnaryResponseDefinition) *connect.Response[T] {
	res := connect.NewResponse(msg)
	addHeaders(res.Header(), def.GetResponseHeaders())
	addHeaders(res.Trailer(), def.GetResponseTrailers())
	return res
}

// requestInfo is what the call received: its headers, the timeout its
// client asked for (its context's deadline), a Connect GET's query, and the
// messages.
func requestInfo(ctx context.Context, header http.Header, query map[string][]string, received []proto.Message) *v1.ConformancePayload_RequestInfo {
	info := &v1.ConformancePayload_RequestInfo{RequestHeaders: headers(header), Requests: anys(received)}
	if deadline, ok := ctx.Deadline(); ok {
		info.TimeoutMs = proto.Int64(time.Until(deadline).Milliseconds())
	}
	if len(query) > 0 {
		info.ConnectGetInfo = &v1.ConformancePayload_ConnectGetInfo{QueryParams: headers(query)}
	}
	return info
}

// rpcError is the error that e describes, with info as a last detail when
// it is not nil.
func rpcError(e *v1.Error, info *v1.ConformancePayload_RequestInfo) *connect.Error {
	err := connect.NewError(connect.Code(e.GetCode()), errors.New(e.GetMessage()))
	details := e.GetDetails()
	if info != nil {
		if a, aErr := anypb.New(info); aErr == nil {
			details = append(details[:len(details):len(details)], a)
		}
	}
	for _, d := range details {
		detail, dErr := connect.NewErrorDetail(d)
		if dErr != nil {
			return connect.NewError(connect.CodeInternal, fmt.Errorf("error detail %s: %w", d.GetTypeUrl(), dErr))
		}
		err.AddDetail(detail)
	}
	return err
}

// pause waits ms milliseconds, or until the call ends.
func pause(ctx context.Context, ms uint32) error {
	if ms == 0 {
		return nil
	}
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err() // connect-go answers it as canceled or deadline_exceeded
	}
}

func addHeaders(dst http.Header, src []*v1.Header) {
	for _, h := range src {
		for _, v := range h.GetValue() {
			dst.Add(h.GetName(), v)
		}
	}
}

func headers(src map[string][]string) []*v1.Header {
	out := make([]*v1.Header, 0, len(src))
	for name, values := range src {
		out = append(out, &v1.Header{Name: name, Value: values})
	}
	return out
}

func anys(msgs []proto.Message) []*anypb.Any {
	out := make([]*anypb.Any, 0, len(msgs))
	for _, m := range msgs {
		if a, err := anypb.New(m); err == nil {
			out = append(out, a)
		}
	}
	return out
}
