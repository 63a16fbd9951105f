"""Paths a treaty names stay inside the treaty folder.

A treaty is untrusted input: ``config: ../../../../proc/self/environ`` once put a server's
environment on a findings page. Every file a treaty names (firewall configs, change candidates,
trust exports, flow files, feed files) is resolved, symlinks included, and must lie inside the
treaty folder. The CLI may widen that with ``--allow-outside PATH``; the web app never does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextvars import ContextVar
from pathlib import Path

# Set once per CLI process by ``--allow-outside`` (see cli.py); empty everywhere else, the web included.
_ALLOWED_OUTSIDE: ContextVar[tuple[Path, ...]] = ContextVar("allowed_outside", default=())


def allow_outside(paths: Iterable[Path]) -> Callable[[], None]:
    """Let treaties name files under ``paths`` (resolved now, symlinks included) until the returned undo runs."""
    token = _ALLOWED_OUTSIDE.set(tuple(Path(p).resolve() for p in paths))
    return lambda: _ALLOWED_OUTSIDE.reset(token)


def allowed_outside() -> tuple[Path, ...]:
    return _ALLOWED_OUTSIDE.get()


class TreatyPaths:
    """Resolves the paths one treaty names, and says what is wrong with one that may not be read."""

    def __init__(self, folder: Path, outside: Iterable[Path] = ()) -> None:
        self.folder = folder.resolve()
        self.outside = tuple(Path(p).resolve() for p in outside)

    def resolve(self, relative: str) -> Path:
        return (self.folder / relative).resolve()

    def problem(self, relative: str, what: str, folder_ok: bool = False) -> str | None:
        """Why ``relative`` cannot be read as ``what``, or None when it can."""
        if "\x00" in relative:
            return f"{what} path contains a NUL character"
        try:
            target = self.resolve(relative)
        except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop, a name too long
            return f"{what} path '{relative}' cannot be resolved: {exc.__class__.__name__}"
        if not self._readable_from_here(relative, target):
            return (f"{what} '{relative}' lies outside the treaty folder {self.folder}"
                    + (" (after following symlinks)" if not Path(relative).is_absolute() else ""))
        if target.is_file() or (folder_ok and target.is_dir()):
            return None
        if target.exists():
            return f"{what} '{relative}' is not a regular file" + (" or folder" if folder_ok else "")
        return f"{what} '{relative}' not found"

    def _readable_from_here(self, relative: str, target: Path) -> bool:
        if any(target == root or target.is_relative_to(root) for root in self.outside):
            return True
        return not Path(relative).is_absolute() and target.is_relative_to(self.folder)


EXPECTED = "a path relative to the treaty folder and inside it (the CLI takes --allow-outside PATH for files elsewhere)"
