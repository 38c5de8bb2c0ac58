"""Venue laptops that sync: a course collected offline, sent to the central server.

wire.py is what travels (`POST /api/v1/sync/submissions`), receive.py what the
server does with it, push.py what `evalsvc sync push` does on the laptop.
"""
