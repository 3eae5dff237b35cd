"""`spc`: run SPC's services, tell its story, and operate it (contract §5)."""
import sys

_GREEN = {"up", "run", "demo"}


def main():
    import warnings
    warnings.filterwarnings("ignore", message="\nEventlet is deprecated")  # known; see stack notes
    if len(sys.argv) > 1 and sys.argv[1] in _GREEN:
        import eventlet
        eventlet.monkey_patch()  # before anything opens a socket: nameko runs on eventlet
    from .commands import cli
    cli(prog_name="spc")


if __name__ == "__main__":
    main()
