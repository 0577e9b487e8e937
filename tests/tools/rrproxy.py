#!/usr/bin/env python3
"""rrproxy - a load balancer for tests: listens on 127.0.0.1:0, prints its URL
(http://127.0.0.1:PORT/), and hands each new TCP connection to the next of the
backends (host:port ...) in turn, skipping one that refuses, as a health-checking
balancer does when a receiver dies. Logs "BACKEND" per connection to stderr.
Usage: rrproxy.py BACKEND...
"""
import asyncio
import sys

backends = [(b.rsplit(':', 1)[0], int(b.rsplit(':', 1)[1])) for b in sys.argv[1:]]
turn = 0


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def handle(creader, cwriter):
    global turn
    for _ in range(len(backends)):
        host, port = backends[turn % len(backends)]
        turn += 1
        try:
            breader, bwriter = await asyncio.open_connection(host, port)
        except OSError:
            continue
        print(f"{host}:{port}", file=sys.stderr, flush=True)
        await asyncio.gather(pipe(creader, bwriter), pipe(breader, cwriter))
        return
    cwriter.close()


async def main():
    server = await asyncio.start_server(handle, '127.0.0.1', 0)
    port = server.sockets[0].getsockname()[1]
    print(f"http://127.0.0.1:{port}/", flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
