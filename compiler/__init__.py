"""sgde compiler: turns teacher critiques of student traces into plan edits.

The SGDe loop itself lands in a later issue; for now this package holds the
command-line entry point, which sits on top of the runtime.
"""
