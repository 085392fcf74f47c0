"""The network API's routes, a `NetworkRouter` per resource; `app.py` includes every one."""
