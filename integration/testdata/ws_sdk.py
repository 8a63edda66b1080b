"""Two real Bitcart SDK websocket clients of a walletd daemon, for
integration/ws_test.go: the SDK's single-wallet client (BTC(xpub=key),
which registers {"xpub": key}) and the merchant's way (APIManager with no
wallets, which registers nothing and takes every event). Each event a
handler receives is printed as one JSON line; "ready" once both sockets are
connected (after the single client's register frame was sent).

usage: ws_sdk.py DAEMON_URL KEY
"""
import asyncio
import json
import sys

from bitcart import BTC, APIManager


def out(**kw):
    print(json.dumps(kw), flush=True)


async def main(url, key):
    params = {"rpc_url": url, "rpc_user": "electrum", "rpc_pass": "electrumz"}
    single = BTC(xpub=key, **params)

    async def single_payment(event, address, status, status_str):
        out(client="single", event=event, address=address, status=status)

    async def single_block(event, height):
        out(client="single", event=event, height=height)

    single.add_event_handler("new_payment", single_payment)
    single.add_event_handler("new_block", single_block)

    manager = APIManager({"BTC": []}, custom_params={"BTC": params})

    async def merchant_payment(instance, event, address, status, status_str):
        out(client="merchant", event=event, address=address, status=status, coin=instance.coin_name, wallet=instance.xpub)

    async def merchant_block(instance, event, height):
        out(client="merchant", event=event, height=height, coin=instance.coin_name, wallet=instance.xpub)

    manager.add_event_handler("new_payment", merchant_payment)
    manager.add_event_handler("new_block", merchant_block)

    connected = []

    def ready(name):
        connected.append(name)
        if len(connected) == 2:
            out(event="ready")

    await asyncio.gather(
        single.start_websocket(reconnect_callback=lambda *_: ready("single"), auto_reconnect=False),
        manager.start_websocket(reconnect_callback=lambda *_: ready("merchant"), auto_reconnect=False),
    )


asyncio.run(main(sys.argv[1], sys.argv[2]))
