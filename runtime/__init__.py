"""sgde runtime: the plan IR, the DAG executor, students and sandboxes.

Running a plan needs the plan file, a student model and a policy; nothing here
imports the compiler.
"""

__version__ = "0.1.0"
