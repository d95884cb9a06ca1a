import asyncio, sys, time, threading
from distributed.comm import connect
from distributed.security import Security
def probe(address, timeout=5):
    args = Security().get_connection_args("client")
    async def handshake():
        comm = await asyncio.wait_for(connect(address, timeout=timeout, **args), timeout)
        await comm.close()
    asyncio.run(handshake())
for a in sys.argv[1:]:
    t = time.monotonic()
    try:
        probe(a); print(a, "ok", time.monotonic()-t)
    except BaseException as e:
        print(a, type(e).__mro__, e, time.monotonic()-t)
