"""Interest to date on a demand or lawyer's letter, when the desk's policy asks for it.

`[interest] in_letters = true` in dunning.toml: the letter states the interest on its overdue
invoices to the letter date (SPEC §13), computed as `dunning interest` computes it. An invoice
the LPR table cannot rate leaves the letter without the line rather than stopping the pack.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from dunning.desk import Desk
from dunning.letters.context import LetterInput
from dunning.workflow.interest import InterestError
from dunning.workflow.interest_rates import customer_interest

# Only these levels carry the line: a friendly reminder does not threaten interest.
LEVELS_WITH_INTEREST = ("demand", "final", "lawyer")


def with_interest(letter: LetterInput, conn: Any, desk: Desk, as_of: dt.date) -> LetterInput:
    """The letter with its interest to date, or as it was when none applies."""
    if letter.level_name not in LEVELS_WITH_INTEREST:
        return letter
    try:
        found = customer_interest(
            conn, letter.customer.code, as_of=as_of, desk_root=desk.root,
            markup=desk.config.interest_markup,
        )  # fmt: skip
    except InterestError:
        return letter
    if found.interest <= 0:
        return letter
    bases = {i.rate.basis for i in found.invoices if i.rate is not None}
    if bases == {"contract"}:
        basis = "按合同约定的逾期付款违约金标准"
    else:
        markup = format(found.markup * 100, "f").rstrip("0").rstrip(".")
        basis = f"按到期日一年期贷款市场报价利率（LPR）加计{markup}%"
    return replace(letter, interest=found.interest, interest_basis=basis)
