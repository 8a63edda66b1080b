"""A libzmq PUB socket that publishes Core-style notifications, for the ZMTP
subscriber's interoperability test (Debian's python3-zmq, libzmq 4.3, the
library Core links).

Prints the bound port, then publishes every 20 ms, until stdin closes:
  rawtx      300 bytes 0..255 repeated (a long ZMTP frame)
  hashblock  32 bytes 0xab
  sequence   32 bytes 0x01, 'A', 8-byte little-endian 7
  hashtx     32 bytes 0xcd (not subscribed by the test)
each followed by a 4-byte little-endian sequence number, as Core does.
"""
import struct
import sys
import threading
import time

import zmq

ctx = zmq.Context()
pub = ctx.socket(zmq.PUB)
port = pub.bind_to_random_port("tcp://127.0.0.1")
print(port, flush=True)

done = threading.Event()


def watch_stdin():
    sys.stdin.read()
    done.set()


threading.Thread(target=watch_stdin, daemon=True).start()
msgs = [
    (b"rawtx", bytes(i % 256 for i in range(300))),
    (b"hashblock", b"\xab" * 32),
    (b"sequence", b"\x01" * 32 + b"A" + struct.pack("<Q", 7)),
    (b"hashtx", b"\xcd" * 32),
]
seq = 0
while not done.is_set():
    for topic, body in msgs:
        pub.send_multipart([topic, body, struct.pack("<I", seq)])
    seq += 1
    time.sleep(0.02)
pub.close(linger=0)
ctx.term()
