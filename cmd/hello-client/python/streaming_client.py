"""Streaming calls of rpc_package.HelloWorldService with Python's grpcio.

Generate the stubs as for greeter_client.py, then:

    PYTHONPATH=/tmp/hello-py /usr/bin/python3 cmd/hello-client/python/streaming_client.py \
        [TARGET] [lots-of-replies|lots-of-greetings|bidi-hello] [NAME...]

It prints "hello client received: <reply>" for every reply.
"""
import sys

import grpc

import helloworld_pb2
import helloworld_pb2_grpc


def requests(names):
    for name in names:
        yield helloworld_pb2.HelloRequest(name=name)


def run(target, rpc, names):
    with grpc.insecure_channel(target) as channel:
        stub = helloworld_pb2_grpc.HelloWorldServiceStub(channel)
        if rpc == 'lots-of-replies':
            replies = stub.LotsOfReplies(helloworld_pb2.HelloRequest(name=names[0]), timeout=10)
        elif rpc == 'lots-of-greetings':
            replies = [stub.LotsOfGreetings(requests(names), timeout=10)]
        elif rpc == 'bidi-hello':
            replies = stub.BidiHello(requests(names), timeout=10)
        else:
            sys.exit('unknown rpc ' + rpc)
        for reply in replies:
            print("hello client received: " + reply.message)


if __name__ == '__main__':
    args = sys.argv[1:]
    run(args[0] if args else 'localhost:50000',
        args[1] if len(args) > 1 else 'lots-of-replies',
        args[2:] or ['eric'])
