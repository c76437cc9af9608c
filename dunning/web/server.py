"""`dunning serve`: checks before starting, the in-process inbox watcher, uvicorn."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

from dunning.archive.db import open_archive
from dunning.desk import Desk
from dunning.errors import DunningError
from dunning.vocabulary import INGEST_OUTCOMES, title
from dunning.web.guard import is_loopback
from dunning.web.users import has_users


class ServeRefusedError(DunningError):
    """The web desk will not start as asked."""


def check_host(desk: Desk, host: str) -> None:
    """Another address than loopback needs accounts: else anyone on the network is the clerk."""
    with open_archive(desk.db_path) as db:  # also migrates the archive once, before serving
        accounts = has_users(db)
    if not is_loopback(host) and not accounts:
        raise ServeRefusedError(
            f"没有账户时不能在 {host} 上提供服务：请先用 `dunning user add 用户名 --role manager`"
            " 添加账户，或只在 127.0.0.1 上提供服务。"
        )


def check_port(host: str, port: int) -> None:
    """Refuse in one sentence when the address is taken, before anything is announced."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ServeRefusedError(
            f"无法在 {host} 上提供服务：{exc.strerror}。请核对 --host。"
        ) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise ServeRefusedError(
                f"无法在 {host}:{port} 上提供服务：{exc.strerror}；请用 --port 换一个端口。"
            ) from None


def run_server(
    desk: Desk, *, host: str, port: int, watch: bool, notice: Callable[[str], None]
) -> None:
    import uvicorn

    from dunning.watcher.lock import DeskLock
    from dunning.web.app import create_app

    check_host(desk, host)
    check_port(host, port)
    with DeskLock(desk):
        app = create_app(desk, watching=watch, loopback_only=is_loopback(host))
        stop = threading.Event()
        watcher = _start_watcher(desk, stop, notice) if watch else None
        notice(f"http://{host}:{port}/（按 Ctrl-C 停止）")
        try:
            # proxy_headers off: only `[web] trusted_proxies` may name the client (guard.py).
            uvicorn.run(
                app, host=host, port=port, log_level="warning", access_log=False,
                proxy_headers=False,
            )  # fmt: skip
        finally:
            stop.set()
            if watcher is not None:
                watcher.join(timeout=30)


def _start_watcher(
    desk: Desk, stop: threading.Event, notice: Callable[[str], None]
) -> threading.Thread:
    from dunning.ingest.pipeline import Outcome
    from dunning.watcher import Watcher, WatchSettings

    def outcome(o: Outcome) -> None:
        said = title(INGEST_OUTCOMES, o.status)
        if o.status == "failed":
            notice(f"{said} {o.file.name}：{o.reason}")
        else:
            notice(f"{said} {o.file.name}（文档 {o.document}）")

    watcher = Watcher(
        desk, WatchSettings.from_config(desk.config), on_outcome=outcome, on_notice=notice
    )
    thread = threading.Thread(target=watcher.run, args=(stop,), name="inbox-watcher", daemon=True)
    thread.start()
    return thread
