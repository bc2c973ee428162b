"""Control: learn each building's thermal behaviour, plan its heating, shed on demand (issue 5).

The controller talks to the world only through ``interface`` (observation -> decision), so
that any emulator, the own RC simulator or a real building behind drivers, can drive it.
"""
