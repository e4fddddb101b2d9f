"""The gRPC Python tutorial's client for rpc_package.HelloWorldService.

Generate its stubs from the project's proto first, then run it with Debian's
python3 (packages python3-grpcio and python3-grpc-tools):

    mkdir -p /tmp/hello-py
    /usr/bin/python3 -m grpc_tools.protoc -I proto/rpc_package -I proto \
        --python_out=/tmp/hello-py --grpc_python_out=/tmp/hello-py \
        proto/rpc_package/helloworld.proto proto/buf/validate/validate.proto \
        proto/google/api/annotations.proto proto/google/api/http.proto
    PYTHONPATH=/tmp/hello-py /usr/bin/python3 cmd/hello-client/python/greeter_client.py

The target defaults to the tutorial's localhost:50000; an argument overrides it.
"""
import sys

import grpc

import helloworld_pb2
import helloworld_pb2_grpc


def run(target):
    with grpc.insecure_channel(target) as channel:
        stub = helloworld_pb2_grpc.HelloWorldServiceStub(channel)
        response = stub.SayHello(helloworld_pb2.HelloRequest(name='eric'))
    print("hello client received: " + response.message)


if __name__ == '__main__':
    run(sys.argv[1] if len(sys.argv) > 1 else 'localhost:50000')
