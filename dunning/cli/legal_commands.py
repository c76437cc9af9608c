"""Commands of the legal side: interest, court fees and cases (SPEC §13)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import click

from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.cli.ledger_commands import as_of_day, as_of_option
from dunning.cli.output import (
    AMOUNT,
    DATE,
    DOCUMENT_ID,
    current_desk,
    echo_json,
    echo_table,
    json_option,
    office_day,
)
from dunning.money import format_amount
from dunning.vocabulary import CASE_COSTS, CASE_KINDS, CASE_STAGES
from dunning.workflow.court_fees import fee_sheet


class _ShowByDefault(click.Group):
    """`dunning interest C001` means `dunning interest show C001`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


@main.group("interest", cls=_ShowByDefault)
def interest_group() -> None:
    """Interest on a customer's overdue invoices: the contract's rate, else the LPR rule.

    Example: dunning interest C001 --as-of 2025-06-30
    """


@interest_group.command("show")
@click.argument("code")
@as_of_option
@json_option
@click.pass_context
def interest_show(ctx: click.Context, code: str, as_of: dt.date | None, as_json: bool) -> None:
    """Interest to the as-of day, invoice by invoice, each with its formula in words.

    Example: dunning interest show C001 --as-of 2025-06-30 --json
    """
    from dunning.workflow.interest_rates import customer_interest

    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        result = customer_interest(
            db, code, as_of=as_of_day(as_of), desk_root=desk.root,
            markup=desk.config.interest_markup,
        )  # fmt: skip
    if as_json:
        echo_json(result.to_json())
        return
    click.echo(f"{result.customer} {result.name}  截至 {result.as_of.isoformat()}")
    for line in result.invoices:
        click.echo(f"  {line.invoice_no}  {format_amount(line.interest):>12}  {line.formula()}")
    click.echo(
        f"逾期本金 {format_amount(result.principal)}  利息合计 {format_amount(result.interest)}"
    )
    click.echo(result.formula())


@interest_group.command("rate")
@click.argument("code")
@click.option("--confirm", "confirm", type=int, default=None,
              help="Confirm candidate number N (from the list this command prints).")  # fmt: skip
@click.option("--set", "typed", default=None, help="Confirm a rate typed out: 日0.05%, 年6%.")
@click.option("--contract", default=None, help="Only for this contract (default: all).")
@click.option("--clear", is_flag=True, help="Forget the confirmed rate: the LPR rule applies.")
@click.option("--by", default=None, help="Who confirmed it.")
@json_option
@click.pass_context
def interest_rate(
    ctx: click.Context,
    code: str,
    confirm: int | None,
    typed: str | None,
    contract: str | None,
    clear: bool,
    by: str | None,
    as_json: bool,
) -> None:
    """Rates found in the customer's archived contracts; confirm one to use it.

    Example: dunning interest rate C001 --confirm 1
    """
    from dunning.workflow.contract_rates import parse_rate
    from dunning.workflow.interest_rates import (
        clear_rate,
        confirm_rate,
        confirmed_rates,
        contract_candidates,
    )

    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        candidates = contract_candidates(db, code)
        if clear:
            gone = clear_rate(db, code, contract_no=contract)
            click.echo("已取消约定利率，改按LPR规则计算。" if gone else "没有已确认的约定利率。")
            return
        if confirm is not None or typed is not None:
            if typed is not None:
                rate, document = parse_rate(typed), None
            else:
                if confirm is None or not 1 <= confirm <= len(candidates):
                    raise click.UsageError(f"--confirm 要给候选序号，1 到 {len(candidates)} 之间。")
                chosen = candidates[confirm - 1]
                rate, document = chosen.rate, chosen.document
                contract = contract or chosen.contract_no
            saved = confirm_rate(db, code, rate, contract_no=contract, document=document, by=by)
            click.echo(f"已确认：{saved.words()}" + (f"（合同 {contract}）" if contract else ""))
            return
        general, by_contract = confirmed_rates(db, code)
    if as_json:
        echo_json(
            {
                "candidates": [c.to_json() for c in candidates],
                "confirmed": general.words() if general else None,
                "by_contract": {k: v.words() for k, v in by_contract.items()},
            }
        )
        return
    click.echo(f"已确认：{general.words() if general else '无（按LPR规则）'}")
    for number, rate in by_contract.items():
        click.echo(f"  合同 {number}：{rate.words()}")
    if not candidates:
        click.echo("合同文本中未找到违约金或利息约定。")
    for n, cand in enumerate(candidates, start=1):
        click.echo(f"[{n}] {cand.rate.words()}  档案 {cand.document}  …{cand.phrase}…")


@main.command("fees")
@click.argument("amount", type=AMOUNT)
@click.option(
    "--preserve", type=AMOUNT, default=None, help="Property to freeze (保全), if not the claim."
)
@json_option
def fees_command(amount: Decimal, preserve: Decimal | None, as_json: bool) -> None:
    """Court fees for a claim: 受理费, 简易程序 half, 支付令 a third, 保全费 (请与律师确认).

    Example: dunning fees 300000
    """
    if amount <= 0 or (preserve is not None and preserve < 0):
        raise click.BadParameter("请给出大于零的诉讼标的金额（元），如 300000。")
    sheet = fee_sheet(amount, preserve=preserve)
    if as_json:
        echo_json(sheet.to_json())
        return
    echo_table(
        ["费用", "金额", "计算", "依据"],
        [[f.name, format_amount(f.amount), f.formula, f.article] for f in sheet.fees],
        right={1},
    )
    click.echo("以上为估算，请与律师确认。")


@main.group("case")
def case_group() -> None:
    """Court cases: open one (papers and evidence), record stages and costs.

    Example: dunning case open C001 --kind lawsuit
    """


def _case_line(case: Any) -> list[object]:
    stage = case.stage
    return [
        case.id,
        case.customer,
        case.name,
        CASE_KINDS[case.kind],
        case.opened_on.isoformat(),
        stage.title if stage else "未立案",
        format_amount(case.claim),
        format_amount(case.total_costs),
        format_amount(case.recovered),
    ]


_CASE_HEADERS = ["#", "客户", "名称", "类型", "开案日期", "阶段", "请求金额", "办案费用", "已回款"]


@case_group.command("open")
@click.argument("code")
@click.option("--kind", type=click.Choice(list(CASE_KINDS)), default="lawsuit",
              help="lawsuit: 民事起诉状 (principal, interest, fees); payment_order: 支付令申请书.")  # fmt: skip
@as_of_option
@click.option("--pdf/--no-pdf", default=True, help="Make the numbered evidence PDF (LibreOffice).")
@click.option("--note", default=None, help="Why the case is brought.")
@json_option
@click.pass_context
def case_open(
    ctx: click.Context,
    code: str,
    kind: str,
    as_of: dt.date | None,
    pdf: bool,
    note: str | None,
    as_json: bool,
) -> None:
    """Move a customer to litigation and write its case folder (papers, evidence list, PDF).

    Example: dunning case open C001 --kind payment_order --as-of 2025-06-30
    """
    from dunning.letters.case_file import build_case_file

    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        built = build_case_file(
            desk, db, code, kind=kind, as_of=as_of_day(as_of), pdf=pdf, note=note
        )
    if as_json:
        echo_json(built.to_json())
        return
    click.echo(f"案件 #{built.case.id} {built.case.customer} {built.case.name}：{CASE_KINDS[kind]}")
    click.echo(
        f"  请求金额 {format_amount(built.case.claim)}，费用 {format_amount(built.case.court_fee)}"
    )
    for path in built.documents:
        click.echo(f"  {path}")
    if built.pdf:
        click.echo(f"  {built.pdf}（{built.pages} 页）")
    for note_line in built.notes:
        click.echo(f"  注意：{note_line}")


@case_group.command("stage")
@click.argument("case")
@click.argument("stage", type=click.Choice(list(CASE_STAGES)))
@click.option("--on", "on", type=DATE, default=None, help="The day (default: today).")
@click.option("--note", default=None, help="案号, court, what happened.")
@click.option(
    "--document", type=DOCUMENT_ID, default=None, help="The court's document (archive number)."
)
@click.pass_context
def case_stage(
    ctx: click.Context,
    case: str,
    stage: str,
    on: dt.date | None,
    note: str | None,
    document: int | None,
) -> None:
    """Record a stage of a case: filed, preservation, hearing, judgment, enforcement, closed.

    Example: dunning case stage 1 filed --on 2025-07-10 --note "(2025)浙0106民初123号"
    """
    from dunning.workflow.cases import add_stage

    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        found = add_stage(db, case, stage, on=on or office_day(desk), note=note, document=document)
    click.echo(f"案件 #{found.id}：{CASE_STAGES[stage]}")


@case_group.command("cost")
@click.argument("case")
@click.argument("kind", type=click.Choice(list(CASE_COSTS)))
@click.argument("amount", type=AMOUNT)
@click.option("--on", "on", type=DATE, default=None, help="The day paid (default: today).")
@click.option("--note", default=None, help="What it was for.")
@click.pass_context
def case_cost(
    ctx: click.Context, case: str, kind: str, amount: Decimal, on: dt.date | None, note: str | None
) -> None:
    """Record a cost of a case (办案费用): court_fee, preservation_fee, lawyer, travel, other.

    Example: dunning case cost 1 lawyer 8000 --note "代理费首期"
    """
    from dunning.workflow.cases import add_cost

    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        found = add_cost(db, case, kind, amount, on=on or office_day(desk), note=note)
    click.echo(f"案件 #{found.id}：{CASE_COSTS[kind]} {format_amount(amount)}，合计 "
               f"{format_amount(found.total_costs)}")  # fmt: skip


@case_group.command("list")
@click.argument("code", required=False)
@json_option
@click.pass_context
def case_list(ctx: click.Context, code: str | None, as_json: bool) -> None:
    """Every case (or one customer's) with its stage, costs and what was recovered.

    Example: dunning case list --json
    """
    from dunning.workflow.cases import list_cases

    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        cases = list_cases(db, code)
    if as_json:
        echo_json([c.to_json() for c in cases])
        return
    if not cases:
        click.echo("还没有案件。")
        return
    echo_table(_CASE_HEADERS, [_case_line(c) for c in cases], right={0, 6, 7, 8})


@case_group.command("show")
@click.argument("case")
@json_option
@click.pass_context
def case_show(ctx: click.Context, case: str, as_json: bool) -> None:
    """One case: claim, stages with dates and documents, costs, recovered.

    Example: dunning case show 1
    """
    from dunning.workflow.cases import get_case

    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        found = get_case(db, case)
    if as_json:
        echo_json(found.to_json())
        return
    echo_table(_CASE_HEADERS, [_case_line(found)], right={0, 6, 7, 8})
    click.echo(f"本金 {format_amount(found.principal)}  利息 {format_amount(found.interest)}"
               f"  受理费 {format_amount(found.court_fee)}  材料：{found.folder or ''}")  # fmt: skip
    for s in found.stages:
        doc = f"  档案 {s.document}" if s.document else ""
        click.echo(f"  {s.on.isoformat()}  {s.title}  {s.note or ''}{doc}")
    for c in found.costs:
        click.echo(f"  {c.on.isoformat()}  {c.title}  {format_amount(c.amount)}  {c.note or ''}")
    if found.after_judgment:
        click.echo(found.after_judgment)
