"""certhall benchmarks: ``python -m bench [issuance|ocsp|crl]`` (``make bench``).

Not part of the test suite. Every measurement runs in its own child process with a fresh
instance directory (``CERTHALL_HOME``) and, for PostgreSQL, a dedicated database that is dropped
at the end. Servers listen on 127.0.0.1 only and are stopped on exit, failure or Ctrl-C.
docs/performance.md records the figures and the method.
"""
