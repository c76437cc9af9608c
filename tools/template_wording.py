"""The wording of the default letter templates, kept apart from the layout code.

A small line markup, read by `tools/make_templates.py`: one paragraph per line; a trailing
backslash continues the line. `# ` is the title, `> ` a paragraph without indent, `~ ` body text
in the statement, `@bank HOLDER` the account block, `@attach` the enclosure line, `@sign A | B`
the signature lines, other `@` lines are layout blocks; `**…**` is bold. Jinja tags name the
variables documented in dunning/letters/context.py (CONTEXT_DOC).
"""

from __future__ import annotations

# One paragraph per line; a trailing backslash continues the line. `# ` is the title, `> ` a
# paragraph without indent, `@bank HOLDER` the account block, `@attach` the enclosure line,
# `@sign A | B` the signature lines; other lines are indented body text. `**…**` is bold.

_AMOUNTS = "截至{{ as_of }}，贵司尚欠我司货款**人民币{{ total_open }}元**（大写：人民币\
{{ total_open_words }}），其中已到期未付款项**人民币{{ total_overdue }}元**（大写：人民币\
{{ total_overdue_words }}），最长已逾期{{ max_days_overdue }}天，明细详见随函所附《对账单》。"
_CONTACT = "我司联系人：{{ company.contact }}，电话：{{ company.contact_phone }}，\
地址：{{ company.address }}。"
_INTEREST = "{%p if has_interest %}\n此外，截至{{ as_of }}，贵司逾期付款已产生利息（违约金）人民币\
{{ interest }}元（大写：人民币{{ interest_words }}，{{ interest_basis }}按日计算），HOLDER保留主张至\
实际付清之日止的利息的权利。\n{%p endif %}"
_HEAD = "> 致：**{{ customer.name }}**（客户编号：{{ customer.code }}）"
_TAIL = "@attach {{ enclosures }}\n@sign {{ company.name }}（盖章） | {{ as_of }}"

REMINDER = f"""# 付款提醒函
{_HEAD}
> 尊敬的客户：
您好！首先感谢贵司长期以来对我司的信任与支持。
根据双方签订的{{{{ contracts_text }}}}，我司已按约供货。{_AMOUNTS}
考虑到贵司业务繁忙，上述款项可能未及安排，特此友情提醒。烦请贵司于**{{{{ deadline }}}}**前将\
到期款项支付至我司账户，付款时请注明函件编号{{{{ ref }}}}。
@bank 我司
如贵司已经付款，请忽略本函，并将付款凭证发送给我司以便核对入账；如对账目有疑问，敬请于收到本函\
后七日内与我司联系。{_CONTACT}
感谢贵司的配合，期待双方继续愉快合作！
> 顺颂商祺！
{_TAIL}"""

DEMAND = f"""# 催 款 函
{_HEAD}
我司与贵司签订了{{{{ contracts_text }}}}。合同签订后，我司已依约全面履行了供货义务，贵司理应\
按约定及时支付货款。{_AMOUNTS}
我司此前已多次与贵司沟通付款事宜，但款项至今仍未结清。贵司逾期付款的行为已违反合同约定，并对\
我司的正常经营造成了影响。现我司正式函告贵司：请于**{{{{ deadline }}}}**前将上述逾期款项\
**人民币{{{{ total_overdue }}}}元**全额支付至我司账户，付款时请注明函件编号{{{{ ref }}}}。
@bank 我司
{_INTEREST.replace("HOLDER", "我司")}
如贵司逾期仍未付款，我司将依据合同约定及《中华人民共和国民法典》的有关规定，要求贵司支付\
**逾期付款违约金**，并保留通过法律途径追偿的权利，由此产生的一切费用及后果由贵司承担。
如贵司对上述欠款金额有异议，请于收到本函之日起五日内书面提出并提供相关凭证；逾期未提出的，\
视为贵司认可上述欠款金额。{_CONTACT}
特此函告。
{_TAIL}"""

FINAL = f"""# 最后催告函
{_HEAD}
根据双方签订的{{{{ contracts_text }}}}，我司已全面履行合同义务。我司此前已多次向贵司发送对账单\
及催款函，但贵司至今仍未履行付款义务。{_AMOUNTS}
贵司长期拖欠货款的行为已构成严重违约。现我司向贵司发出**最后催告**：请贵司务必于\
**{{{{ deadline }}}}**前，将全部逾期款项**人民币{{{{ total_overdue }}}}元**（大写：人民币\
{{{{ total_overdue_words }}}}）支付至我司账户，付款时请注明函件编号{{{{ ref }}}}。
@bank 我司
{_INTEREST.replace("HOLDER", "我司")}
若贵司在上述期限内仍未付清，我司将不再另行通知，直接委托律师**依法提起诉讼**，要求贵司支付\
全部欠款及**逾期付款违约金**，并承担律师费、诉讼费、保全费等实现债权的全部费用，同时申请对\
贵司财产采取保全措施。由此给贵司造成的一切损失及商业信誉的影响，均由贵司自行承担。
本函为我司最后一次书面催告，望贵司高度重视，切勿自误。{_CONTACT}
特此函告。
{_TAIL}"""

LAWYER = f"""# 律 师 函
^ （{{{{ ref }}}}）
{_HEAD}
{{{{ lawyer.firm }}}}（以下简称“本所”）接受{{{{ company.name }}}}（以下简称“委托人”）的委托，\
指派{{{{ lawyer.name }}}}律师，就贵司拖欠委托人货款一事，郑重致函如下：
根据委托人提供的材料及陈述，委托人与贵司签订了{{{{ contracts_text }}}}，委托人已依约履行了\
供货义务，但贵司未按约定支付货款。截至{{{{ as_of }}}}，贵司尚欠委托人货款**人民币\
{{{{ total_open }}}}元**（大写：人民币{{{{ total_open_words }}}}），其中逾期款项**人民币\
{{{{ total_overdue }}}}元**（大写：人民币{{{{ total_overdue_words }}}}），最长逾期已达\
{{{{ max_days_overdue }}}}天。委托人曾多次催收，贵司至今仍未付清。
本所律师认为：依法成立的合同对当事人具有法律约束力。依据《中华人民共和国民法典》第五百零九条、\
第五百七十七条及第五百七十九条的规定，当事人应当按照约定全面履行自己的义务；当事人一方未支付\
价款的，对方可以请求其支付，并要求其承担违约责任。贵司拖欠货款的行为已构成违约，依法应当支付\
所欠货款并承担**逾期付款违约金**等违约责任。
为此，本所受委托人委托，特函告贵司：请贵司于**{{{{ deadline }}}}**前，将所欠款项**人民币\
{{{{ total_overdue }}}}元**支付至委托人账户，付款时请注明函件编号{{{{ ref }}}}。
@bank 委托人
{_INTEREST.replace("HOLDER", "委托人")}
如贵司逾期仍未履行付款义务，本所将根据委托人的授权**依法提起诉讼**，要求贵司支付全部欠款及\
逾期付款违约金，并承担律师费、诉讼费、保全费等实现债权的全部费用，同时申请对贵司财产采取诉讼\
保全措施。届时贵司将承担更大的经济损失及不利的法律后果。
如贵司对上述事项有异议，请于收到本函之日起五日内与本所{{{{ lawyer.name }}}}律师联系\
（电话：{{{{ lawyer.phone }}}}）。
特此函告。
@attach {{{{ enclosures }}}}
@sign {{{{ lawyer.firm }}}}（盖章） | 承办律师：{{{{ lawyer.name }}}} | {{{{ as_of }}}}"""


# (header, width in cm, cell). The widths fit what real ledgers hold on one line, in the
# table's 8 pt Times New Roman (Liberation Serif on Linux): a 20-digit 数电发票 number, a contract
# number of 19-20 characters (ZJMY-XS-2025-000123), amounts up to 99,999,999.99, ISO dates.
# They add up to the statement's body width (STATEMENT_BODY_CM in make_templates.py).
STATEMENT_COLUMNS = [
    ("发票号", 3.1, "{{ i.invoice_no }}"),
    ("合同编号", 3.2, "{{ i.contract_no }}"),
    ("开票日期", 1.6, "{{ i.invoice_date_iso }}"),
    ("到期日", 1.6, "{{ i.due_date_iso }}"),
    ("发票金额", 1.9, "{{ i.amount }}"),
    ("已收金额", 1.9, "{{ i.received }}"),
    ("未收金额", 1.9, "{{ i.open_amount }}"),
    ("逾期天数", 1.4, "{{ i.days_overdue_text }}"),
]
AMOUNT_COLUMNS = {4, 5, 6}


STATEMENT = """# 应收账款对账单
@info
@spacer 6
~ {{ customer.name }}：为核对双方往来账目，现将截至{{ as_of }}我司账面记录的贵司未结清款项列示\
如下，请予核对。核对相符，请在下方回执“相符”处签字盖章；如有不符，请注明差异并附凭证。请于\
**{{ deadline }}**前将回执寄回我司。
~> 金额单位：人民币元
@items
@spacer 6
~ 未结清余额合计：**人民币{{ total_open }}元**（大写：人民币{{ total_open_words }}），其中已逾期：\
**人民币{{ total_overdue }}元**（大写：人民币{{ total_overdue_words }}）。
~ {%p if has_credit %}
~ 另有贵司已付未核销款项人民币{{ credit }}元，抵减后应付余额为人民币{{ balance_due }}元\
（大写：人民币{{ balance_due_words }}）。
~ {%p endif %}
@aging
@spacer 6
~ 收款账户：{{ bank.account_name }}，开户行：{{ bank.name }}。
~ 账　号：**{{ bank.account_no }}**
~ 联系人：{{ company.contact }}，电话：{{ company.contact_phone }}。
@remit
@sign {{ company.name }}（盖章） | {{ as_of }}
@cut
~ {{ company.name }}：贵司编号为{{ ref }}的对账单已收悉。经核对，截至{{ as_of }}，我司尚欠贵司\
货款余额人民币{{ total_open }}元（大写：人民币{{ total_open_words }}）。核对结果如下：
@spacer 4
@reply"""

RECEIPT = """# 签 收 回 执
> {{ company.name }}：
我司已于________年_____月_____日收到贵司发出的《{{ level_title }}》（函件编号：{{ ref }}）及所附\
《对账单》，函中所列欠款金额为人民币{{ total_open }}元（大写：人民币{{ total_open_words }}）。\
特此回执。
@spacer 8
@form receipt
@spacer 8
~ 请于签收后三日内将本回执签字盖章寄回，或拍照发送至{{ company.name }}。联系人：\
{{ company.contact }}，电话：{{ company.contact_phone }}，地址：{{ company.address }}。"""

VISIT = """# 到 访 回 执 单
@form visit
@spacer 8
~ 本回执一式两份，双方各执一份。被访单位签字盖章即确认已收到上述文件。"""

DATE_BLANK = "________年_____月_____日"
FORMS: dict[str, list[tuple[str, str]]] = {
    "receipt": [
        ("签收单位", "{{ customer.name }}"),
        ("客户编号", "{{ customer.code }}"),
        ("函件编号", "{{ ref }}"),
        ("签收人（签字）", ""),
        ("联系电话", ""),
        ("签收日期", DATE_BLANK),
        ("单位盖章", ""),
    ],
    "visit": [
        ("到访单位", "{{ company.name }}"),
        ("到访人员", "________________（签字）"),
        ("被访单位", "{{ customer.name }}（客户编号：{{ customer.code }}）"),
        ("被访单位地址", "{{ customer.address }}"),
        ("函件编号", "{{ ref }}"),
        ("到访日期", DATE_BLANK),
        (
            "到访事由",
            "就贵司拖欠我司货款人民币{{ total_open }}元（大写：人民币\
{{ total_open_words }}）一事进行对账与催收。涉及合同：{{ contract_nos }}。",
        ),
        ("当面交付文件", "□ {{ level_title }}　□ 对账单　□ 合同复印件　□ 其他：__________"),
        (
            "被访单位意见及还款承诺",
            f"我司确认上述欠款，承诺于{DATE_BLANK}前支付人民币\
______________元。其他意见：",
        ),
        ("被访单位确认", "签字：______________　职务：____________　电话：______________"),
    ],
}
TALL_ROWS = {"单位盖章": 3.5, "被访单位意见及还款承诺": 4.0}


# 证据清单: the lawyer's evidence list (序号 | 证据名称 | 编号及日期 | 证明内容 | 备注).
EVIDENCE_COLUMNS = [
    ("序号", 1.0, "{{ e.no }}"),
    ("证据名称", 4.2, "{{ e.name }}"),
    ("编号及日期", 3.6, "{{ e.reference }}"),
    ("证明内容", 4.8, "{{ e.proves }}"),
    ("备注", 2.0, "{{ e.note }}"),
]

EVIDENCE = """# 证 据 清 单
~ 案由：买卖合同纠纷（货款）
~ 提交人：{{ company.name }}　　对方当事人：{{ customer.name }}（客户编号：{{ customer.code }}）
~ 截至{{ as_of }}，对方尚欠货款人民币{{ total_open }}元（大写：人民币{{ total_open_words }}）。\
以下证据均已归档（备注中的档案号为我司档案中的文件编号），原件由{{ company.name }}保管，\
可随时提供核对。
@spacer 4
@evidence
@spacer 6
~ 说明：催款函、律师函以送达对方为准（民法典第一百九十五条：权利人向义务人提出履行请求的，\
诉讼时效中断）；仅有寄出凭证而无妥投证明的，备注中注明“未取得妥投证明”，应尽快向快递公司调取。
@sign {{ company.name }}（盖章） | 经办人：{{ signatory.name }} | {{ as_of }}"""
