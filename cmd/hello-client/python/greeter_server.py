"""The gRPC Python tutorial's server for rpc_package.HelloWorldService.

hello-interop runs it to show that hello-client speaks gRPC to a server that is
not written in Go. Generate the stubs as for greeter_client.py, then:

    PYTHONPATH=/tmp/hello-py /usr/bin/python3 cmd/hello-client/python/greeter_server.py [PORT]

It implements SayHello only, as the tutorial does; the streaming RPCs answer
UNIMPLEMENTED. It listens on 127.0.0.1 (the tutorial: [::]:50000).
"""
from concurrent import futures
import sys

import grpc

import helloworld_pb2
import helloworld_pb2_grpc


class Greeter(helloworld_pb2_grpc.HelloWorldServiceServicer):

    def SayHello(self, request, context):
        return helloworld_pb2.HelloReply(message='Hello, %s!' % request.name)


def serve(port):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=10))
    helloworld_pb2_grpc.add_HelloWorldServiceServicer_to_server(Greeter(), server)
    server.add_insecure_port('127.0.0.1:' + port)
    server.start()
    print('tutorial server listening on 127.0.0.1:' + port, flush=True)
    server.wait_for_termination()


if __name__ == '__main__':
    serve(sys.argv[1] if len(sys.argv) > 1 else '50000')
