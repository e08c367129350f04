"""The terminal app in a real terminal (tmux), each figure against a same-run baseline.

    python bench/bench_app.py [--rounds N] [--keys K]

- first frame: from starting `workbench PROJECT` in a new tmux session until the editor
  shows the haiku's source, against a fresh `python -c "import textual"`;
- key echo: one printable key sent to the editor (`tmux send-keys -l`) until it is on the
  screen, p95 of K keys while a build runs (F6) against K keys while nothing builds, typed
  in turns in one session; the same against `cat` says what tmux and the machine add.

Needs tmux. The app runs on a private tmux server (its own socket, no ~/.tmux.conf) with
HOME and the XDG folders in a scratch folder, so the user's config is never read or written.
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from bench_common import REPOSITORY, Row, median_of, percentile, print_rows, timed_command

WORKBENCH = str(Path(sys.executable).parent / "workbench")
WIDTH, HEIGHT = 120, 40
#: A line of examples/haiku/haiku.py: once it is on the screen, the editor shows.
EDITOR_TEXT = "class Skill(skill.Skill):"
#: The key typed in the key-echo benchmark; on no other part of the haiku's screens.
MARK = "~"
#: Keys typed on one editor line (then a new comment line), so none scrolls out of view.
PER_LINE = 40
#: Keys typed idle, then as many while a build runs, in turn: a build's first key waits for
#: the save and the build's start (~0.1 s), so fewer keys a build would weigh that more.
CHUNK = 30
BUILDING = "Building…"
POLL = 0.005  # seconds between two looks at the screen


class Terminal:
    """A private tmux server (its own socket) and the sessions started on it."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.socket = folder / "tmux.sock"
        self.env = env
        self.sessions: set[str] = set()
        # The server outlives its sessions, so a session's start never includes the server's.
        self.tmux("start-server", ";", "set-option", "-g", "exit-empty", "off")

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-S", str(self.socket), "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=check,
            env=self.env,
        )

    def start(self, name: str, command: list[str]) -> None:
        self.sessions.add(name)
        self.tmux(
            "new-session", "-d", "-x", str(WIDTH), "-y", str(HEIGHT), "-s", name,
            shlex.join(command),
        )  # fmt: skip

    def screen(self, name: str) -> str:
        return self.tmux("capture-pane", "-p", "-t", name).stdout

    def text(self, name: str, text: str) -> None:
        self.tmux("send-keys", "-t", name, "-l", text)

    def keys(self, name: str, *keys: str) -> None:
        self.tmux("send-keys", "-t", name, *keys)

    def alive(self, name: str) -> bool:
        return self.tmux("has-session", "-t", name, check=False).returncode == 0

    def wait_for(self, name: str, seen: Callable[[str], bool], timeout: float) -> str:
        """The first screen `seen` accepts, looking every POLL seconds."""
        deadline = time.perf_counter() + timeout
        while True:
            screen = self.screen(name)
            if seen(screen):
                return screen
            if time.perf_counter() > deadline:
                raise TimeoutError(f"not seen within {timeout} s; the screen:\n{screen}")
            time.sleep(POLL)

    def quit_app(self, name: str) -> None:
        """Cancel what runs, save, quit; end the session if the app has not gone by then."""
        if name not in self.sessions:
            return
        with suppress(subprocess.CalledProcessError):
            if self.alive(name):
                self.keys(name, "Escape")
                time.sleep(0.3)
                self.keys(name, "C-s")
                time.sleep(0.3)
                self.keys(name, "C-q")
                deadline = time.perf_counter() + 5
                while self.alive(name) and time.perf_counter() < deadline:
                    time.sleep(0.05)
        self.tmux("kill-session", "-t", name, check=False)
        self.sessions.discard(name)

    def close(self) -> None:
        for name in list(self.sessions):
            self.quit_app(name)
        self.tmux("kill-server", check=False)


def app_env(scratch: Path) -> dict[str, str]:
    """The environment the app runs in: nothing of the user's config, home or state."""
    home = scratch / "home"
    (home / ".config").mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "WORKBENCH_CONFIG": str(home / ".config/workbench/config.toml"),
        "LANG": os.environ.get("LANG") or "C.UTF-8",
    }


def processes_on(folder: Path, word: str = "") -> list[int]:
    """Processes whose command line names `folder` (and `word`): the app on a project, a
    build in it, or one left behind."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with suppress(OSError):
            line = (entry / "cmdline").read_bytes().decode(errors="replace")
            if str(folder) in line and word in line:
                found.append(int(entry.name))
    return found


def builds_in(project: Path) -> list[int]:
    """componentize-py processes building in `project` (a component or a runtime)."""
    return processes_on(project, "componentize")


def settle(folder: Path, timeout: float = 10) -> None:
    """Wait for what runs on `folder` (the app that was quit, its builds) to end; what is
    still there after `timeout` seconds is killed, so it weighs on no later measurement."""
    deadline = time.perf_counter() + timeout
    while processes_on(folder) and time.perf_counter() < deadline:
        time.sleep(0.05)
    left = processes_on(folder)
    if left:
        print(f"killing {len(left)} process(es) left running on {folder}", file=sys.stderr)
    for pid in left:
        with suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def wait_idle(project: Path, quiet: float = 1.0, timeout: float = 300) -> None:
    """Until nothing has built in `project` for `quiet` seconds (when a project opens the
    app may build its instant-run runtime behind the editor)."""
    deadline = time.perf_counter() + timeout
    quiet_since = time.perf_counter()
    while time.perf_counter() - quiet_since < quiet:
        if builds_in(project):
            quiet_since = time.perf_counter()
        if time.perf_counter() > deadline:
            raise TimeoutError(f"something still builds in {project} after {timeout} s")
        time.sleep(0.05)


@contextmanager
def terminal(scratch: Path) -> Iterator[Terminal]:
    tmux = Terminal(scratch, app_env(scratch))
    try:
        yield tmux
    finally:
        tmux.close()
        settle(scratch, timeout=2)


def first_frame(tmux: Terminal, project: Path, n: int) -> float:
    """Seconds from starting the app until the editor shows the project's source."""
    name = f"wb-frame-{os.getpid()}-{n}"
    started = time.perf_counter()
    tmux.start(name, [WORKBENCH, str(project)])
    try:
        tmux.wait_for(name, lambda screen: EDITOR_TEXT in screen, timeout=30)
        return time.perf_counter() - started
    finally:
        tmux.quit_app(name)
        settle(project)


def echo(tmux: Terminal, name: str) -> tuple[float, str]:
    """One MARK key until it is on the screen: its latency, and the screen that showed it."""
    before = tmux.screen(name).count(MARK)
    started = time.perf_counter()
    tmux.text(name, MARK)
    screen = tmux.wait_for(name, lambda screen: screen.count(MARK) > before, timeout=10)
    return time.perf_counter() - started, screen


def new_comment_line(tmux: Terminal, name: str, first: bool) -> None:
    """Start a comment line, so what is typed next keeps the skill valid Python: the first
    above line 1 (the app opens with the cursor there), the next ones below the last."""
    tmux.keys(name, *(["Enter", "Up"] if first else ["Enter"]))
    tmux.text(name, "# ")
    time.sleep(0.3)


@dataclass
class Typed:
    """Echo latencies of keys typed in one state of the app."""

    latencies: list[float] = field(default_factory=list)
    builds: int = 0  # builds started (F6) to keep one running
    said_building: int = 0  # echoes whose screen said "Building…"


def type_keys(
    tmux: Terminal, name: str, project: Path, count: int, into: Typed, building: bool, typed: int
) -> None:
    """`count` keys with nothing building in `project`, or with a build running all along
    (F6 again whenever none runs: the keys typed since changed the sources, so each is a
    real build); `typed` keys were typed before. Whether a build runs is read from the
    processes, not from the screen."""
    for n in range(typed, typed + count):
        if n % PER_LINE == 0:
            new_comment_line(tmux, name, first=n == 0)
        if building and not builds_in(project):
            tmux.keys(name, "F6")
            deadline = time.perf_counter() + 30
            while not builds_in(project):
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"F6 started no build:\n{tmux.screen(name)}")
                time.sleep(POLL)
            into.builds += 1
        elif not building and builds_in(project):
            raise RuntimeError("the app started a build by itself during the idle keys")
        latency, screen = echo(tmux, name)
        into.latencies.append(latency)
        into.said_building += BUILDING in screen
        time.sleep(random.uniform(0.03, 0.06))  # a typist's pace, not a queue of keys


def key_echo(tmux: Terminal, project: Path, keys: int) -> tuple[Typed, Typed]:
    """`keys` keys with the app idle and `keys` keys while builds run, CHUNK at a time in
    turn (a key's echo also depends on how much was typed before it in the session)."""
    name = f"wb-keys-{os.getpid()}"
    module = project / "haiku.py"
    idle, building = Typed(), Typed()
    tmux.start(name, [WORKBENCH, str(project)])
    try:
        tmux.wait_for(name, lambda screen: EDITOR_TEXT in screen, timeout=30)
        time.sleep(1.0)  # what the app starts when a project opens has started by now
        while len(idle.latencies) < keys or len(building.latencies) < keys:
            for typed, is_building in ((idle, False), (building, True)):
                wait_idle(project)  # also until the last chunk's build has ended
                count = min(CHUNK, keys - len(typed.latencies))
                done = len(idle.latencies) + len(building.latencies)
                type_keys(tmux, name, project, count, typed, is_building, done)
    finally:
        tmux.quit_app(name)
        settle(project)
    typed_keys = module.read_text().count(MARK)
    if typed_keys != 2 * keys:  # the app saved on quit: every key must have reached the editor
        raise RuntimeError(f"{2 * keys} keys typed, {typed_keys} reached {module.name}")
    if building.said_building == 0:
        raise RuntimeError("the status never said 'Building…' during the build keys")
    return idle, building


def terminal_floor(tmux: Terminal, keys: int, busy: Path | None = None) -> list[float]:
    """The same key echo against `cat` (the terminal's own echo): what tmux, these polls
    and the machine add to every latency above; with `busy`, while that project is built
    again and again (`workbench build --force`, a process of its own) as the app builds."""
    name = f"wb-floor-{os.getpid()}-{'busy' if busy else 'idle'}"
    builder: subprocess.Popen[bytes] | None = None
    tmux.start(name, ["cat"])
    try:
        latencies = []
        for _ in range(keys):
            if busy is not None and not builds_in(busy):
                if builder is not None:
                    builder.wait()
                builder = subprocess.Popen(
                    [WORKBENCH, "build", "--force", str(busy)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    env=tmux.env,
                )
                while not builds_in(busy) and builder.poll() is None:
                    time.sleep(POLL)
            latencies.append(echo(tmux, name)[0])
            time.sleep(random.uniform(0.03, 0.06))
        return latencies
    finally:
        tmux.tmux("kill-session", "-t", name, check=False)
        tmux.sessions.discard(name)
        if builder is not None:
            builder.wait()  # a build ends by itself within seconds; stopping it could strand it


def measure(rounds: int = 5, keys: int = 30) -> list[Row]:
    """The first-frame and key-echo rows of the benchmark table."""
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is missing: apt-get install tmux")
    with tempfile.TemporaryDirectory(prefix="workbench-bench-app-") as folder:
        scratch = Path(folder)
        frame_project = scratch / "frame" / "haiku"
        shutil.copytree(REPOSITORY / "examples/haiku", frame_project)
        keys_project = scratch / "typed" / "haiku"
        shutil.copytree(REPOSITORY / "examples/haiku", keys_project)
        with terminal(scratch) as tmux:
            frames = [first_frame(tmux, frame_project, n) for n in range(rounds)]
            idle, building = key_echo(tmux, keys_project, keys)
            floor = terminal_floor(tmux, keys)
            busy_floor = terminal_floor(tmux, keys, busy=frame_project)
    textual = median_of(rounds, lambda n: timed_command([sys.executable, "-c", "import textual"]))

    def ms(samples: list[float], fraction: float = 0.5) -> str:
        return f"{percentile(samples, fraction) * 1000:.0f} ms"

    return [
        Row(
            "first-frame",
            "app first frame (tmux, until the editor shows)",
            statistics.median(frames),
            textual,
            note=f"rounds {', '.join(f'{f:.3f}' for f in frames)} s",
        ),
        Row(
            "key-echo",
            "key echo in the editor while a build runs",
            percentile(building.latencies, 0.95),
            percentile(idle.latencies, 0.95),
            stat="p95",
            note=(
                f"{keys} keys idle and {keys} during {building.builds} build(s) started with F6 "
                f"({building.said_building} of those echoes had 'Building…' on screen): median "
                f"{ms(building.latencies)} building, {ms(idle.latencies)} idle; max "
                f"{ms(building.latencies, 1)} building, {ms(idle.latencies, 1)} idle; "
                f"the same against `cat` (tmux, the polls and the machine alone): p95 "
                f"{ms(floor, 0.95)} idle, {ms(busy_floor, 0.95)} during builds"
            ),
        ),
    ]


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--rounds", type=int, default=5)
    options.add_argument("--keys", type=int, default=30)
    arguments = options.parse_args()
    print_rows(measure(arguments.rounds, arguments.keys))


if __name__ == "__main__":
    main()
