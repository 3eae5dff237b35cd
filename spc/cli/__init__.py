"""`spc`: run SPC's services, tell its story, and operate it (contract §5)."""

import sys

_GREEN = {"up", "run", "demo"}


def _dump_greenlets_on_sigusr1():
    """`kill -USR1 <pid>` prints the stack of every greenthread to stderr: what a stuck service is
    waiting on (py-spy shows only the hub)."""
    import gc
    import signal
    import traceback

    import greenlet

    def dump(*_):
        for obj in gc.get_objects():
            if isinstance(obj, greenlet.greenlet) and obj.gr_frame is not None:
                sys.stderr.write(f"--- greenlet {obj!r}\n" + "".join(traceback.format_stack(obj.gr_frame)))
        sys.stderr.flush()

    signal.signal(signal.SIGUSR1, dump)


def main():
    import warnings

    warnings.filterwarnings("ignore", message="\nEventlet is deprecated")  # known; see stack notes
    if len(sys.argv) > 1 and sys.argv[1] in _GREEN:
        import eventlet

        eventlet.monkey_patch()  # before anything opens a socket: nameko runs on eventlet
        _dump_greenlets_on_sigusr1()
    from .commands import cli

    cli(prog_name="spc")
