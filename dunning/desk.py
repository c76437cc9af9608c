"""The desk: one folder holding the inbox, the archive, the store and the templates."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from dunning.config import DEFAULT_TOML, Config, load_config
from dunning.errors import DeskExistsError, NotADeskError

CONFIG_NAME = "dunning.toml"
SECRET_NAME = ".dunning-web-secret"  # signs web sessions; a dotfile, never taken for a document
INBOX_ROUTES = ("contracts", "ledgers", "receipts", "bank", "invoices")
PACKAGE_TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Desk:
    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def db_path(self) -> Path:
        return self.root / "archive.db"

    @property
    def store(self) -> Path:
        return self.root / "store"

    @property
    def failed(self) -> Path:
        return self.root / "failed"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def own_files(self) -> tuple[Path, ...]:
        """What the desk itself keeps: never ingested, even by `dunning ingest .`."""
        db = self.db_path
        return (
            self.config_path,
            db,
            db.with_name(db.name + "-wal"),
            db.with_name(db.name + "-shm"),
            self.store,
            self.failed,
            self.out,
            self.templates,
        )

    @cached_property
    def config(self) -> Config:
        return load_config(self.config_path)


def init_desk(root: Path) -> Desk:
    """Create a desk at `root`; refuses when a desk is already there."""
    desk = Desk(root.resolve())
    if desk.config_path.exists():
        raise DeskExistsError(f"{desk.root} 已经是工作台，什么也没有改变。")
    desk.root.mkdir(parents=True, exist_ok=True)
    for folder in (desk.inbox, desk.store, desk.failed, desk.out, desk.templates):
        folder.mkdir(exist_ok=True)
    for private in (desk.store, desk.failed, desk.out):
        # Contracts, ledgers and letters: the desk's owner only, whatever the umask.
        private.chmod(0o700)
    for route in INBOX_ROUTES:
        (desk.inbox / route).mkdir(exist_ok=True)
    for template in sorted(PACKAGE_TEMPLATES.glob("*.docx")):
        target = desk.templates / template.name
        if not target.exists():
            shutil.copyfile(template, target)
    # Imported late: the archive package imports this module.
    from dunning.archive.db import open_archive

    open_archive(desk.db_path).close()
    desk.config_path.write_text(DEFAULT_TOML, encoding="utf-8")
    return desk


def find_desk(given: Path | None = None, *, cwd: Path | None = None) -> Desk:
    """`--desk`, else `$DUNNING_DESK`, else the current folder or its nearest parent."""
    if given is None and os.environ.get("DUNNING_DESK"):
        given = Path(os.environ["DUNNING_DESK"])
    if given is not None:
        if (given / CONFIG_NAME).is_file():
            return Desk(given.resolve())
        raise NotADeskError(
            f"{given} 不是工作台（没有 {CONFIG_NAME}）：请先运行 `dunning init {given}`。"
        )
    start = (cwd or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return Desk(folder)
    raise NotADeskError("这里不是工作台：请先运行 `dunning init`（或用 --desk 指定工作台文件夹）。")
