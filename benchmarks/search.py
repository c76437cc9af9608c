"""Search benchmark: 20,000 synthetic Chinese contracts, search() against a LIKE scan.

Run: .venv/bin/python benchmarks/search.py [--docs N] [--repeat R] [--keep PATH]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from dunning.archive.db import open_archive, write_transaction
from dunning.archive.search.index import COLUMNS, fold, reindex_all
from dunning.archive.search.query import parse_terms, search, search_ids

CITIES = [
    "杭州",
    "宁波",
    "温州",
    "苏州",
    "无锡",
    "南京",
    "上海",
    "合肥",
    "福州",
    "厦门",
    "广州",
    "深圳",
    "成都",
    "武汉",
    "长沙",
    "郑州",
    "济南",
    "青岛",
]
TRADES = [
    "机械",
    "电子",
    "纺织",
    "化工",
    "建材",
    "物流",
    "食品",
    "医药",
    "包装",
    "五金",
    "照明",
    "汽配",
    "塑料",
    "环保",
    "家具",
]
WORDS = [
    "华盛",
    "恒通",
    "鑫达",
    "永泰",
    "宏远",
    "金鼎",
    "瑞丰",
    "天成",
    "博远",
    "新纪元",
    "东方",
    "中孚",
    "利华",
    "嘉禾",
    "信诚",
    "铭泰",
]
GOODS = [
    "数控机床",
    "不锈钢板材",
    "电缆",
    "包装纸箱",
    "液压泵",
    "LED灯具",
    "PVC管材",
    "工业电机",
    "空压机",
    "传感器",
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
CLAUSES = [
    "甲方应于收到货物并验收合格后{days}日内支付货款人民币{amount}元。",
    "如甲方逾期付款，每逾期一日，应按逾期金额的万分之{rate}向乙方支付违约金。",
    "合同总金额的{pct}%作为质保金，质保期{months}个月，期满无质量问题后{days}日内退还。",
    "乙方应于{date}前将{goods}送达甲方指定地点：{city}市{district}区。",
    "因不可抗力导致合同不能履行的，双方互不承担违约责任，但应及时通知对方。",
    "本合同履行过程中发生争议，双方协商解决；协商不成的，提交{city}仲裁委员会仲裁。",
    "乙方开具增值税专用发票，税率{tax}%，发票金额为{amount}元。",
    "货物的所有权自甲方付清全部货款之日起转移。",
    "甲方联系人：{person}，电话：1{phone}；乙方联系人：{person2}。",
    "本合同一式{copies}份，甲乙双方各执{half}份，自双方签字盖章之日起生效。",
    "乙方保证所供{goods}符合国家标准GB/T {gb}-{year}的要求。",
    "验收不合格的，乙方应在{days}日内免费更换，并承担由此产生的运输费用。",
    "本合同为{ref}号合同的补充协议，未尽事宜以原合同为准。",
    "付款方式：银行转账至乙方账户，开户行：中国工商银行{city}分行，账号62{account}。",
    "甲方逾期超过{days}日未付款的，乙方有权解除合同并要求甲方赔偿损失。",
    "运输方式：汽运，运费由{payer}承担，保险由乙方办理。",
    "甲乙双方根据《中华人民共和国民法典》及有关法律法规，在平等自愿、协商一致的基础上，"
    "就甲方向乙方采购{goods}事宜订立本合同，以资共同遵守。",
    "乙方应保证货物包装完好，适合长途运输，因包装不善造成的货物损坏由乙方负责；"
    "甲方应在收货后{days}日内提出书面质量异议，逾期视为验收合格。",
    "任何一方未经对方书面同意，不得将本合同项下的权利义务转让给第三方；"
    "双方对本合同内容及履行中知悉的商业秘密负有保密义务，保密期限为{months}个月。",
    "甲方应按以下进度付款：合同签订后{days}日内支付预付款{pct}0%，货到验收后支付至95%，"
    "余款作为质保金于质保期满后支付。",
]


def company(rng: random.Random) -> str:
    return f"{rng.choice(CITIES)}{rng.choice(WORDS)}{rng.choice(TRADES)}有限公司"


def contract_no(i: int) -> str:
    return f"HT-{2025 - i % 3}-{i // 3 + 1:04d}"


def fill(rng: random.Random, template: str, i: int) -> str:
    return template.format(
        days=rng.choice([7, 10, 15, 30, 45, 60, 90]),
        amount=f"{rng.randint(1_000, 9_000_000):,}.{rng.randint(0, 99):02d}",
        rate=rng.choice(["三", "五", "1", "0.5"]),
        pct=rng.choice([3, 5, 10]),
        months=rng.choice([6, 12, 18, 24]),
        date=f"2025年{rng.randint(1, 12)}月{rng.randint(1, 28)}日",
        goods=rng.choice(GOODS),
        city=rng.choice(CITIES),
        district=rng.choice(["西湖", "滨江", "鼓楼", "高新", "经开", "新城"]),
        tax=rng.choice([6, 9, 13]),
        person=rng.choice(SURNAMES) + rng.choice(["经理", "先生", "女士", "工"]),
        person2=rng.choice(SURNAMES) + rng.choice(["经理", "先生", "女士"]),
        phone=rng.randint(3_000_000_000, 9_999_999_999),
        copies=4,
        half=2,
        gb=rng.randint(1000, 30000),
        year=rng.choice([2008, 2015, 2019, 2021]),
        ref=contract_no(rng.randrange(max(i, 1))),
        account=rng.randint(10**15, 10**16 - 1),
        payer=rng.choice(["甲方", "乙方"]),
    )


def contract_text(rng: random.Random, i: int, buyer: str, seller: str) -> str:
    title = f"{rng.choice(GOODS)}购销合同"
    head = f"{title}合同编号：{contract_no(i)}甲方（买方）：{buyer}乙方（卖方）：{seller}"
    clauses = [fill(rng, c, i) for c in rng.sample(CLAUSES, rng.randint(8, 18))]
    body = "".join(f"第{n + 1}条{c}" for n, c in enumerate(clauses))
    return (
        head + body + f"签订地点：{rng.choice(CITIES)}签订日期：2025年{i % 12 + 1}月{i % 28 + 1}日"
    )


def build(path: Path, docs: int, seed: int = 7) -> float:
    """Fill a new archive with `docs` contracts; returns the seconds spent indexing."""
    rng = random.Random(seed)
    db = open_archive(path)
    customers = [(f"C{n:04d}", company(rng)) for n in range(400)]
    with write_transaction(db) as conn:
        conn.executemany(
            "INSERT INTO customers (code, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
            [(code, name, "2025-01-01", "2025-01-01") for code, name in customers],
        )
        for i in range(docs):
            code, buyer = rng.choice(customers)
            text = contract_text(rng, i, buyer, company(rng))
            conn.execute(
                "INSERT INTO documents (id, sha256, kind, original_name, stored_path, size, title,"
                " customer_code, contract_no, ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [i + 1, f"{i:064x}", "contract", f"{contract_no(i)}.pdf", f"store/{i:064x}",
                 len(text.encode()), text[: text.index("合同") + 2], code, contract_no(i),
                 f"2025-{i % 12 + 1:02d}-{i % 28 + 1:02d}T09:00:00+00:00"],
            )  # fmt: skip
            conn.execute("INSERT INTO document_text VALUES (?, ?)", [i + 1, text])
        started = time.perf_counter()
        reindex_all(conn)
    db.conn.close()
    return time.perf_counter() - started


def reference_ids(conn: sqlite3.Connection, query: str) -> list[int]:
    """Brute force: documents where every term is a substring of some searchable field."""
    terms = parse_terms(query)
    found = []
    for row in conn.execute(f"SELECT document_id, {', '.join(COLUMNS)} FROM search_source"):
        fields = [fold(v) for v in row[1:]]
        if all(any(t in f for f in fields) for t in terms):
            found.append(row[0])
    return sorted(found)


def like_scan(conn: sqlite3.Connection, query: str) -> list[int]:
    """The scan a search replaces: LIKE over the extracted text, one clause per term."""
    terms = query.split()
    where = " AND ".join("text LIKE ? ESCAPE '\\'" for _ in terms)
    escaped = [
        "%" + t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for t in terms
    ]
    return [
        r[0] for r in conn.execute(f"SELECT document_id FROM document_text WHERE {where}", escaped)
    ]


def timings(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(p50, p95) in milliseconds."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.95 * len(samples)))]


QUERIES = [
    ("2-char", "杭州"),
    ("2-char", "货款"),
    ("2-char common", "合同"),
    ("3-char", "违约金"),
    ("3-char", "质保金"),
    ("4+-char", "不可抗力"),
    ("4+-char", "逾期金额的万分之"),
    ("4+-char", "杭州华盛机械"),
    ("contract no", "HT-2025-0005"),
    ("contract no", "T-2025"),
    ("contract no", "0005"),
    ("1-char", "仲"),
    ("multi-term", "质保金 退还"),
    ("multi-term", "杭州 违约金 HT-2024"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keep", type=Path, help="build the archive here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "archive.db"
        return run(path, args.docs, args.repeat)


def run(path: Path, docs: int, repeat: int) -> int:
    started = time.perf_counter()
    index_s = build(path, docs)
    print(
        f"built {docs} contracts in {time.perf_counter() - started:.1f} s (index {index_s:.1f} s)"
    )
    db = open_archive(path)
    conn: sqlite3.Connection = db.conn
    report_sizes(conn, docs)
    header = f"{'kind':<14}{'query':<22}{'hits':>7}{'p50 ms':>9}{'p95 ms':>9}"
    print(header + f"{'ids p95':>9}{'LIKE p50':>10}{'speedup':>9}  same")
    failures = 0
    for label, query in QUERIES:
        ids = search_ids(db, query)
        same = ids == reference_ids(conn, query) and len(search(db, query, limit=10**6)) == len(ids)
        failures += not same
        p50, p95 = timings(lambda q=query: search(db, q), repeat)  # type: ignore[misc]
        _, ids95 = timings(lambda q=query: search_ids(db, q), repeat)  # type: ignore[misc]
        like50, _ = timings(lambda q=query: like_scan(conn, q), max(3, repeat // 10))  # type: ignore[misc]
        print(
            f"{label:<14}{query:<22}{len(ids):>7}{p50:>9.2f}{p95:>9.2f}{ids95:>9.2f}"
            f"{like50:>10.1f}{like50 / p95:>8.0f}x  {'yes' if same else 'NO'}"
        )
    print("hits = all matches; p50/p95 = search(limit=20); ids = search_ids (every match)")
    print("speedup = LIKE p50 / search p95; same = search_ids equals a brute-force scan")
    return 1 if failures else 0


def report_sizes(conn: sqlite3.Connection, docs: int) -> None:
    def size(where: str) -> int:
        row = conn.execute(f"SELECT sum(pgsize) FROM dbstat WHERE {where}").fetchone()
        return int(row[0] or 0)

    text = size("name = 'document_text'")
    fts = size("name LIKE 'search_fts%'")
    tri = size("name LIKE 'search_tri%'")
    source = size("name LIKE 'search_source%'")
    print(
        f"per document: text {text / docs / 1024:.1f} KiB, bigram index {fts / docs / 1024:.1f}"
        f" KiB, trigram index {tri / docs / 1024:.1f} KiB,"
        f" search_source copy {source / docs / 1024:.1f} KiB"
    )


if __name__ == "__main__":
    sys.exit(main())
