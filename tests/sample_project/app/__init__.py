"""A small application that builds its own sessions, as much existing code does.

It is the sample project of asyncsessiontest's tests and of its "Legacy code" docs page.
"""
