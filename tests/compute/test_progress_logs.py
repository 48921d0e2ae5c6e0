"""Progress in logs: a line every 10 % or 30 s when stderr is not a terminal."""

from __future__ import annotations

import io
import time

from lossfilm.compute.execution.progress import LOG_STEP_PERCENT, Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_a_line_per_tenth_not_per_unit():
    stream = io.StringIO()
    with Progress("rendering film.mp4", 1000, unit="frames", stream=stream) as bar:
        for _ in range(1000):
            bar.advance()
    lines = stream.getvalue().splitlines()
    # the opening line and one per 10 % step (10 %, 20 % ... 100 %); the closing line is
    # not repeated when the last one already says 100 %
    assert len(lines) == 1 + 100 // LOG_STEP_PERCENT, lines
    percents = [int(line.split("(")[1].split("%")[0]) for line in lines]
    assert percents == list(range(0, 101, 10))
    assert all("\r" not in line for line in lines)


def test_a_log_gets_a_line_after_the_interval_within_one_step():
    stream = io.StringIO()
    with Progress("surfaces", 1000, unit="tiles", stream=stream, interval=0.05) as bar:
        bar.advance()  # 0.1 %: same step as the opening line, too soon -> nothing
        time.sleep(0.08)
        bar.advance()  # still under 10 %, but the interval passed -> a line
    lines = stream.getvalue().splitlines()
    # the opening line and the interval's; a closing line would only repeat 2/1000
    assert [line.split(":")[1].split()[0] for line in lines] == ["0/1000", "2/1000"]


def test_a_resumed_run_starts_its_steps_where_it_stands():
    stream = io.StringIO()
    with Progress("surfaces", 100, stream=stream, done=55) as bar:
        for _ in range(45):
            bar.advance()
    percents = [int(line.split("(")[1].split("%")[0]) for line in stream.getvalue().splitlines()]
    assert percents == [55, 60, 70, 80, 90, 100]


def test_a_run_that_stops_short_says_where_it_stopped():
    stream = io.StringIO()
    with Progress("surfaces", 100, stream=stream) as bar:
        for _ in range(15):
            bar.advance()
    assert stream.getvalue().splitlines()[-1].split(":")[1].split()[0] == "15/100"
    assert len(stream.getvalue().splitlines()) == 3  # 0 %, 10 %, and the closing 15 %


def test_a_terminal_line_is_rewritten_in_place():
    stream = Terminal()
    with Progress("training", 5, stream=stream) as bar:
        for _ in range(5):
            bar.advance()
    text = stream.getvalue()
    assert text.count("\r\033[K") >= 2 and text.endswith("\n") and text.count("\n") == 1
