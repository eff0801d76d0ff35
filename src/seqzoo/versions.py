"""The releases a run was made with, recorded in its metrics.json and checkpoints, so that a figure can be
traced to its stack and a checkpoint evaluated under another stack says so (figures may move in the last
digits when torch or numpy change their kernels)."""

import importlib.metadata

PACKAGES = ("torch", "lightning", "hydra-core", "numpy", "seqzoo")


def versions() -> dict[str, str]:
    """package -> installed version, for the packages whose release can change a result."""
    found = {}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def version_note(saved: dict | None, what: str) -> str | None:
    """One line naming each package whose version differs from the one ``what`` was made with; None if none."""
    if not saved:
        return (
            f"{what} records no package versions (written before seqzoo recorded them); its figures may differ "
            "slightly from now"
        )
    now = versions()
    changed = [f"{k} {saved[k]} -> {now[k]}" for k in PACKAGES if k in saved and saved[k] != now[k]]
    return (
        f"{what} was made with other versions ({', '.join(changed)}); its figures may differ slightly"
        if changed
        else None
    )
