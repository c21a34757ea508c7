"""``cdk-omics-run status``: where each run and batch of a deployed stack is.

One module per job: ``stack_resources`` finds the runs and batches of a stack (nested stacks
included), ``progress`` reads each one's status and tasks, ``report`` is the snapshot they make,
``render`` draws it for a terminal or prints it as JSON, ``errors`` turns AWS errors into one line
that names the fix, and ``command`` ties them together (``--watch`` included).

Nothing here is imported by the construct: the command's terminal library comes with the
``cli`` extra (``pip install "cdk-omics-run[cli]"``).
"""
