"""What every bad-input test asks of the command line: one line on stderr and exit status 2."""

from eqprop_analog import cli


def run(argv: list[str], capsys) -> tuple[int, str]:
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    return code, capsys.readouterr().err


def one_line_error(code, err: str) -> str | None:
    """None if this is one clean error line with exit 2, else what is wrong."""
    lines = err.strip().splitlines()
    if code != 2 or "Traceback" in err or len(lines) != 1 or \
            not lines[0].startswith("eqprop-analog: error: "):
        return f"exit {code}, stderr {err!r}"
    return None
