"""``cdk-omics-run status``: where each run and batch of a deployed stack is.

One module per job:

- ``arguments``: the subcommand's options (standard library only);
- ``stack_resources``: the stack's runs and batches, nested stacks included, and what each wait waits for;
- ``progress``: one run's status and tasks (through a task cursor), one batch's progress;
- ``reader``: readings of the whole stack, politely (what has ended is not read again);
- ``report``: a reading as JSON or tab-separated lines; ``render``: the same for a terminal (rich);
- ``prices``, ``manifest``, ``cost``: what a run that ended cost;
- ``timeline``, ``timeline_page``: the Gantt chart page (plotly);
- ``errors``: AWS errors as one line that names the fix; ``command``: the command, ``--watch`` included.

Nothing here is imported by the construct: the command's terminal and plotting libraries come
with the ``cli`` extra (``pip install "cdk-omics-run[cli]"``).
"""
