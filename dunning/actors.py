"""Who did a thing: every write records its actor (a web account, or the OS user at the CLI)."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Literal

Via = Literal["cli", "web", "watcher", "system"]


@dataclass(frozen=True)
class Actor:
    name: str  # the account name on the web desk; the OS user name at the command line
    role: str  # viewer | clerk | manager; the CLI's OS user acts as a manager of its own desk
    via: Via

    @property
    def label(self) -> str:
        """How the audit trail names the actor."""
        return self.name if self.via == "web" else f"{self.name}（{_VIA_TITLES[self.via]}）"


_VIA_TITLES = {"cli": "命令行", "web": "网页", "watcher": "收件箱", "system": "系统"}


def os_actor() -> Actor:
    """The local user running a command: whoever can open the desk folder owns it."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "本机"
    return Actor(name=name or "本机", role="manager", via="cli")
