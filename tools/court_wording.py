"""The wording of the court papers (支付令申请书, 民事起诉状, 证据目录), in the letter markup of
template_wording.py. Variables are documented in dunning/letters/case_file.py (COURT_CONTEXT_DOC).

These documents go to a court or a lawyer: they name no software. Each cites the articles it
relies on, and the draft line at the top asks the clerk to confirm with counsel (请与律师确认)
and to delete the line before filing.
"""

from __future__ import annotations

_DRAFT = "~ 【草稿】本文书由催收记录自动汇总，法律依据、请求事项及金额提交前请与律师确认；\
提交法院前删除本行。"

_PARTIES = """> {{ role_plaintiff }}：{{ plaintiff.name }}
> 统一社会信用代码：{{ plaintiff.credit_code }}
> 住所地：{{ plaintiff.address }}
> 法定代表人：{{ plaintiff.representative }}　　联系电话：{{ plaintiff.phone }}
> {{ role_defendant }}：{{ defendant.name }}
> 统一社会信用代码：{{ defendant.credit_code }}
> 住所地：{{ defendant.address }}
> 联系人：{{ defendant.contact }}　　联系电话：{{ defendant.phone }}"""

_FACTS = "{{ plaintiff_short }}与{{ defendant_short }}签订了{{ contracts_text }}，约定由\
{{ plaintiff_short }}向{{ defendant_short }}供货，{{ defendant_short }}按约定期限支付货款。\
{{ plaintiff_short }}已依约供货，并开具发票{{ invoice_count }}张，价税合计人民币{{ invoiced }}元。\
付款期限届满后，{{ defendant_short }}未依约付清货款，截至{{ as_of }}尚欠货款人民币\
{{ principal }}元（大写：人民币{{ principal_words }}）。{{ demands_text }}"

COMPLAINT = f"""{_DRAFT}
# 民 事 起 诉 状
{_PARTIES}
@heading 诉讼请求
一、判令被告向原告支付货款人民币{{{{ principal }}}}元（大写：人民币{{{{ principal_words }}}}）；
二、判令被告向原告支付逾期付款利息（违约金）人民币{{{{ interest }}}}元（暂计至{{{{ as_of }}}}，\
此后以未付货款为基数，按同一标准计至实际清偿之日止）；
~ 计算方式：{{{{ interest_formula }}}}
三、本案诉讼费用（预计案件受理费人民币{{{{ court_fee }}}}元）由被告承担。
~ 受理费计算：{{{{ court_fee_formula }}}}（{{{{ court_fee_article }}}}）
> 以上第一、二项合计人民币{{{{ claim }}}}元（大写：人民币{{{{ claim_words }}}}）。
@heading 事实与理由
{_FACTS}
原告认为，依法成立的合同对当事人具有法律约束力。依据《中华人民共和国民法典》第五百零九条、\
第五百七十七条、第六百二十六条之规定，被告应当按照约定支付价款，其逾期付款应承担违约责任；\
{{{{ interest_basis }}}}为维护原告的合法权益，依据《中华人民共和国民事诉讼法》第一百二十三条、\
第一百二十四条之规定，特向贵院提起诉讼，望判如所请。
> 此致
> ________________人民法院
@sign 具状人：{{{{ plaintiff.name }}}}（盖章） | 法定代表人（签字）：____________ | {{{{ as_of }}}}
@heading 附
~ 1. 本起诉状副本{{{{ copies }}}}份；2. 证据目录及证据材料一套（共{{{{ evidence_count }}}}项，\
{{{{ evidence_pages }}}}页）；3. 原告营业执照复印件、法定代表人身份证明书。"""

PAYMENT_ORDER = f"""{_DRAFT}
# 支 付 令 申 请 书
{_PARTIES}
@heading 请求事项
一、请求贵院依法向被申请人发出支付令，督促被申请人向申请人给付货款人民币{{{{ principal }}}}元\
（大写：人民币{{{{ principal_words }}}}）；
二、本案申请费（人民币{{{{ court_fee }}}}元）由被申请人承担。
~ 申请费计算：{{{{ court_fee_formula }}}}（{{{{ court_fee_article }}}}）
@heading 事实与理由
{_FACTS}
申请人与被申请人之间没有其他债务纠纷，本支付令能够送达被申请人。依据《中华人民共和国民事诉讼法》\
第二百二十五条至第二百二十八条之规定，债权人请求债务人给付金钱，债权债务关系明确、合法的，可以\
向有管辖权的基层人民法院申请支付令；人民法院受理后十五日内向债务人发出支付令，债务人应当自收到\
支付令之日起十五日内清偿债务，或者向人民法院提出书面异议。依《最高人民法院关于适用〈中华人民共和国\
民事诉讼法〉的解释》第四百二十八条，本申请仅请求给付货款本金。为此，特向贵院申请支付令。
> 此致
> ________________人民法院
@sign 申请人：{{{{ plaintiff.name }}}}（盖章） | 法定代表人（签字）：____________ | {{{{ as_of }}}}
@heading 附
~ 1. 本申请书副本{{{{ copies }}}}份；2. 证据目录及证据材料一套（共{{{{ evidence_count }}}}项，\
{{{{ evidence_pages }}}}页）；3. 申请人营业执照复印件、法定代表人身份证明书。"""

# 证据目录 (序号 | 证据名称 | 证据来源 | 证明内容 | 页码).
EXHIBIT_COLUMNS = [
    ("序号", 1.0, "{{ e.no }}"),
    ("证据名称", 4.4, "{{ e.name }}"),
    ("证据来源", 3.0, "{{ e.source }}"),
    ("证明内容", 5.4, "{{ e.proves }}"),
    ("页码", 1.8, "{{ e.pages }}"),
]

EVIDENCE_INDEX = f"""{_DRAFT}
# 证 据 目 录
~ 案由：买卖合同纠纷　　提交人：{{{{ plaintiff.name }}}}　　对方当事人：{{{{ defendant.name }}}}
~ 提交日期：{{{{ as_of }}}}　　共{{{{ evidence_count }}}}项证据，{{{{ evidence_pages }}}}页（页码见证据材料\
右下角）。
@spacer 4
@exhibits
@spacer 6
~ 说明：催款函件以送达对方为准（《中华人民共和国民法典》第一百九十五条：权利人向义务人提出履行\
请求的，诉讼时效中断）；页码为“—”的证据原件尚未归档，页码为“另附”的原件另行提交。\
原件均由{{{{ plaintiff.name }}}}保管，开庭时提交核对。
@sign 提交人：{{{{ plaintiff.name }}}}（盖章） | {{{{ as_of }}}}"""
