"""Stand-ins for the controllers and product APIs that the lab has no room for.

Each stand-in imitates the documented, observable behaviour of the real component (the
objects and status it writes, the checks it makes) closely enough that wrong wiring fails.
They live only under tests/ and are never shipped with the collection.
"""
