"""The installed releases that differ from the lock, one line each: after ``make test-latest`` these are the
suspects when a test that passes from the lock fails.

    python scripts/lock_diff.py requirements.lock
"""

import argparse
import importlib.metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def locked(path: str) -> dict[str, str]:
    """name -> version of every lock line whose marker holds on this interpreter and platform."""
    out = {}
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate():
                out[canonicalize_name(req.name)] = str(req.specifier).removeprefix("==")
    return out


def differences(lock: dict[str, str]) -> list[str]:
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    return [
        f"{name}: {version} locked, {installed.get(name, 'not installed')} installed"
        for name, version in sorted(lock.items())
        if installed.get(name) != version
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lock")
    rows = differences(locked(parser.parse_args().lock))
    print("\n".join(rows) if rows else "every locked release is installed")
