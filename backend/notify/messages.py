"""What a citizen is told when a case changes status: plain Chinese, no personal data.

Pure functions of plain values, used by the store when it writes the outbox
row in the same transaction as the status change.
"""

from __future__ import annotations

from datetime import date

from backend import lifecycle
from backend.lifecycle import CaseStatus, Opinion

STATUS_CHANGED = "您的信访事项（编号{case_id}）于{date}{what}。"
OPINION_GIVEN = "处理意见为「{opinion}」，书面意见书将依法送达。"
NEXT_DEADLINE = "{label}：{due}前（{article}）。"
#: what the citizen may do next, by the status just entered
NEXT_ACTION: dict[CaseStatus, str] = {
    CaseStatus.ACCEPTED: "有关机关将依法办理，办理结果将书面答复您。",
    CaseStatus.FORWARDED: "有权处理的机关将在收到后依法决定是否受理并告知您。",
    CaseStatus.IN_PROGRESS: "如需补充材料，办理人员会与您联系。",
    CaseStatus.EXTENDED: "延期理由：{note}",
    CaseStatus.CONCLUDED: "如对处理意见不服，可在{due}前请求原办理机关的上一级机关复查（{article}）。",
    CaseStatus.REVIEW_REQUESTED: "复查机关将在{due}前作出复查意见（{article}）。",
    CaseStatus.REVIEWED: "如对复查意见不服，可在{due}前向复查机关的上一级机关请求复核（{article}）。",
    CaseStatus.RECHECK_REQUESTED: "复核机关将在{due}前作出复核意见（{article}）。",
    CaseStatus.RECHECKED: "复核意见为最终处理意见；以同一事实和理由再次提出的，不再受理（{article}）。",
    CaseStatus.ROUTED: "您反映的事项应通过其他法定途径解决：{note}",
    CaseStatus.WITHDRAWN: "该信访事项已撤回，办理程序终止。",
}
WHAT: dict[CaseStatus, str] = {
    CaseStatus.ACCEPTED: "已受理",
    CaseStatus.ROUTED: "经审查应通过其他法定途径解决",
    CaseStatus.FORWARDED: "已转送/交办有权处理的机关",
    CaseStatus.IN_PROGRESS: "进入办理阶段",
    CaseStatus.EXTENDED: "经批准延长办理期限",
    CaseStatus.CONCLUDED: "已办结",
    CaseStatus.REVIEW_REQUESTED: "已收到您的复查申请",
    CaseStatus.REVIEWED: "已出具复查意见",
    CaseStatus.RECHECK_REQUESTED: "已收到您的复核申请",
    CaseStatus.RECHECKED: "已出具复核意见",
    CaseStatus.WITHDRAWN: "已撤回",
}
EVALUATE = "欢迎对办理情况作出评价（满意、基本满意或不满意）。"
QUERY_HINT = "可凭信访件编号和查询码随时查询办理进展。"


def chinese_date(day: date) -> str:
    """``2026年1月22日``."""
    return f"{day.year}年{day.month}月{day.day}日"


def status_change_message(
    *,
    case_id: str,
    status: CaseStatus,
    on: date,
    deadline: tuple[str, date] | None,
    note: str | None = None,
    opinion: Opinion | None = None,
) -> str:
    """The notice for a status change: status, date, next deadline, what the citizen may do."""
    parts = [STATUS_CHANGED.format(case_id=case_id, date=chinese_date(on), what=WHAT[status])]
    if opinion is not None:
        parts.append(OPINION_GIVEN.format(opinion=opinion.label))
    due_text, article = "", ""
    if deadline is not None:
        column, due = deadline
        limit = lifecycle.STATUTORY[lifecycle.DEADLINE_LIMITS[column]]
        due_text, article = chinese_date(due), limit.article
        if status not in (CaseStatus.CONCLUDED, CaseStatus.REVIEWED):
            parts.append(NEXT_DEADLINE.format(label=limit.label, due=due_text, article=article))
    if status is CaseStatus.RECHECKED:
        article = lifecycle.STATUTORY["recheck_decision"].article
    action = NEXT_ACTION.get(status)
    if action:
        parts.append(action.format(due=due_text, article=article, note=(note or "").strip() or "详见书面告知"))
    if status in lifecycle.ANSWERING_STATUSES:
        parts.append(EVALUATE)
    if status not in lifecycle.FINAL_STATUSES:
        parts.append(QUERY_HINT)
    return "".join(parts)
