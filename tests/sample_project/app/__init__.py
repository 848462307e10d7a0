"""A small users and orders application: the sample of asyncsessiontest's tests and docs.

app/service.py is given its sessions, as the docs' examples test it; app/users.py builds its own
from the module-level factory of app/db.py, as much existing code does ("Integrating with
existing code").
"""
