"""A test skill whose input picks a behaviour, so one build covers every runtime edge case."""

import json
import os
import sys

import skill
from skill.imports import csi


def recurse(depth: int) -> int:
    return recurse(depth + 1) + 1


class Skill(skill.Skill):
    def run(self, in_: str) -> str:
        if in_ == "raise":
            raise ValueError("bad input")
        if in_ == "loop":
            while True:
                pass
        if in_ == "alloc":
            hoard = []
            while True:
                hoard.append(bytearray(1 << 20))
        if in_ == "exit":
            sys.exit(3)
        if in_ == "recurse":
            return str(recurse(0))
        if in_ == "print":
            print("to stdout")
            print("to stderr", file=sys.stderr)
        if in_ == "tail":
            sys.stderr.write("last words")
            return "done"
        if in_ == "tail-raise":
            sys.stderr.write("famous last words")
            raise ValueError("after the last words")
        if in_ == "tail-exit":
            sys.stderr.write("exit words")
            sys.exit(3)
        if in_ == "loop-loudly":
            print("looping", file=sys.stderr)
            while True:
                pass
        if in_ == "sandbox":
            return json.dumps(sandbox_report())
        if in_.startswith("calls:"):
            return "|".join(csi.complete_text(f"p{n}", f"m{n}") for n in range(int(in_[6:])))
        if in_ == "sleep":
            import time

            time.sleep(1000)
            return "slept"
        if in_.startswith("big-prompts"):
            prompt = "x" * (10 << 20)
            count = 0
            for _ in range(int(in_[12:] or 30)):
                csi.complete_text(prompt, "big-model")
                count += 1
            return str(count)
        if in_ == "os-exit":
            os._exit(4)
        if in_ == "return-int":
            return 42  # type: ignore[return-value]
        if in_ == "return-surrogate":
            return "half a pair: \ud800"
        if in_.startswith("print-big:"):
            size = int(in_[10:])
            print("p" * size)
            return str(size)
        if in_.startswith("print-many:"):
            count = int(in_[11:])
            for _ in range(count):
                print("q" * 1023)
            return str(count)
        return csi.complete_text(in_, "behaviour-model")


def sandbox_report() -> dict:
    try:
        open("/etc/passwd").close()
        files = "readable"
    except OSError as error:
        files = type(error).__name__
    try:
        open(__file__).close()
        own_source = "readable"
    except OSError as error:
        own_source = f"{type(error).__name__} for {__file__}"
    try:
        import socket  # noqa: F401

        network = "socket module present"
    except ImportError:
        network = "no socket module"
    return {
        "environ": dict(os.environ),
        "home": os.environ.get("HOME"),
        "files": files,
        "own_source": own_source,
        "network": network,
    }
