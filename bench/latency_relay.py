#!/usr/bin/env python3
"""A TCP relay that adds a fixed one-way delay to every byte in each direction: a round trip of
2 x DELAY between the client and the target, without limiting bandwidth. Usage:
latency_relay.py DELAY_MS LISTEN_PORT:TARGET_PORT [...] (all on 127.0.0.1).

Why it is faithful for HTTP/1.1 and HTTP/2 alike (the kernel here has no sch_netem): the delay
is applied to the byte stream, below any protocol, so a request waits one RTT/2 to arrive and
its answer another, however many requests share a connection; a TLS handshake costs its real round
trips. One thing is cheaper than on a real network: the TCP handshake with the relay itself is
local, so opening a connection costs no round trip — which favours HTTP/1.1 and its six
connections, never HTTP/2. DevTools' latency
emulation instead delays each request by itself, which charges an h2 connection's multiplexed
requests as if they were separate round trips and hides the cost of h1's connection limit."""
import asyncio
import sys
import time


async def pipe(reader, writer, delay):
    queue = asyncio.Queue()

    async def release():
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        try:
            writer.write_eof()
        except (OSError, RuntimeError):
            pass

    sender = asyncio.create_task(release())
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            queue.put_nowait((time.monotonic() + delay, data))
    except (ConnectionError, OSError):
        pass
    queue.put_nowait((0, None))
    try:
        await sender
    except (ConnectionError, OSError):
        pass


async def serve(listen, target, delay):
    async def handle(cr, cw):
        try:
            ur, uw = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            cw.close()
            return
        await asyncio.gather(pipe(cr, uw, delay), pipe(ur, cw, delay), return_exceptions=True)
        for w in (cw, uw):
            w.close()

    server = await asyncio.start_server(handle, "127.0.0.1", listen, backlog=1024)
    async with server:
        await server.serve_forever()


async def main():
    delay = float(sys.argv[1]) / 1000.0
    pairs = [tuple(int(x) for x in a.split(":")) for a in sys.argv[2:]]
    await asyncio.gather(*(serve(listen, target, delay) for listen, target in pairs))


if __name__ == "__main__":
    asyncio.run(main())
