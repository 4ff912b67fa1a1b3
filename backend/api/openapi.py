"""The OpenAPI 3.1 document of the backend API, written by hand.

``tests/backend/test_openapi.py`` checks it against the router: every route
is documented, nothing undocumented is served, and each operation's
``x-roles`` equals the roles its handler admits.
"""

from __future__ import annotations

from typing import Any

ALL = ["handler", "supervisor", "operator", "bot"]
STAFF = ["handler", "supervisor", "operator"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR = _ref("Error")
ERR = {
    "400": _json(ERROR, "请求参数不正确"),
    "401": _json(ERROR, "缺少或无效的令牌"),
    "403": _json(ERROR, "令牌的角色无权执行此操作"),
    "404": _json(ERROR, "未找到"),
    "409": _json(ERROR, "程序不允许（附中文原因）"),
    "422": _json(ERROR, "内容不正确"),
    "429": _json(ERROR, "失败次数过多，见 Retry-After"),
}


def _errors(*codes: str) -> dict[str, Any]:
    return {code: ERR[code] for code in codes}


def _q(name: str, description: str, *, required: bool = False, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema or {"type": "string"}}


CASE_ID_PATH = {"name": "case_id", "in": "path", "required": True, "schema": {"type": "string"},
                "description": "信访件编号，如 XF20261126-7K3P9Q"}


def _op(summary: str, ok: dict[str, Any], *, roles: list[str] | None, errors: tuple[str, ...] = (),
        parameters: list[dict[str, Any]] | None = None, body: dict[str, Any] | None = None,
        ok_status: str = "200") -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {ok_status: ok, **_errors(*errors)}}
    if roles is None:
        op["security"] = []
        op["x-roles"] = []
    else:
        op["security"] = [{"bearer": []}]
        op["x-roles"] = roles
        op["responses"].update(_errors("401", "403"))
    if parameters:
        op["parameters"] = parameters
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error", "message"],
              "properties": {"error": {"type": "string"}, "message": {"type": "string"}}},
    "Status": {"type": "string", "enum": [
        "registered", "accepted", "routed", "forwarded", "in_progress", "extended", "concluded",
        "review_requested", "reviewed", "recheck_requested", "rechecked", "withdrawn"]},
    "Opinion": {"type": "string", "enum": ["support", "explain", "reject"],
                "description": "支持 / 解释说明 / 不予支持（中文名称也可）"},
    "Case": {"type": "object", "description": "完整信访事项（含个人信息，仅限工作人员）",
             "required": ["case_id", "status", "status_label", "events", "deadlines"],
             "properties": {"case_id": {"type": "string"}, "status": _ref("Status"),
                            "status_label": {"type": "string"}, "petitioner": {"type": ["object", "null"]},
                            "events": {"type": "array", "items": {"type": "object"}},
                            "deadlines": {"type": "object"}, "opinion": {"type": ["string", "null"]},
                            "first_time": {"type": ["boolean", "null"]},
                            "prior_case_ids": {"type": "array", "items": {"type": "string"}}},
             "additionalProperties": True},
    "CaseRow": {"type": "object", "description": "列表行：联系人信息已脱敏",
                "properties": {"case_id": {"type": "string"}, "status": _ref("Status"),
                               "petitioner": {"type": ["object", "null"], "properties": {
                                   "name": {"type": ["string", "null"], "example": "李**"},
                                   "phone": {"type": ["string", "null"], "example": "138****8000"}}},
                               "overdue": {"type": "boolean"}, "current_deadline": {"type": ["object", "null"]}},
                "additionalProperties": True},
    "Progress": {"type": "object", "description": "公众可见的办理进展，不含个人信息",
                 "required": ["case_id", "status", "status_label", "steps", "next_step"],
                 "properties": {"case_id": {"type": "string"}, "status": _ref("Status"),
                                "status_label": {"type": "string"},
                                "steps": {"type": "array", "items": {"type": "object"}},
                                "next_deadline": {"type": ["object", "null"]}, "next_step": {"type": "string"},
                                "may_evaluate": {"type": "boolean"},
                                "may_request": {"type": ["string", "null"], "enum": ["review", "recheck", None]}}},
    "CaseDraft": {"type": "object", "description": "契约 §4 的信访事项；case_id、received_at 可省略",
                  "properties": {"case_id": {"type": "string"}, "channel": {"enum": ["hotline", "api"]},
                                 "petitioner": {"type": "object"}, "description": {"type": "string"}},
                  "additionalProperties": True},
    "Transition": {"type": "object", "required": ["to"],
                   "properties": {"to": _ref("Status"), "note": {"type": "string"},
                                  "reason": {"type": "string", "description": "延期理由（告知信访人）"},
                                  "opinion": _ref("Opinion")}},
    "OpinionIn": {"type": "object", "required": ["opinion"],
                  "properties": {"opinion": _ref("Opinion"), "note": {"type": "string"}}},
    "Evaluation": {"type": "object", "required": ["case_id", "code", "rating"],
                   "properties": {"case_id": {"type": "string"}, "code": {"type": "string"},
                                  "rating": {"enum": ["satisfied", "basically_satisfied", "unsatisfied"]},
                                  "comment": {"type": "string"}}},
    "ReviewRequest": {"type": "object", "required": ["case_id", "code", "kind", "reason"],
                      "properties": {"case_id": {"type": "string"}, "code": {"type": "string"},
                                     "kind": {"enum": ["review", "recheck"]}, "reason": {"type": "string"}}},
}


def openapi_document() -> dict[str, Any]:
    """The whole API as an OpenAPI 3.1 dict."""
    obj = {"type": "object"}
    paths: dict[str, Any] = {
        "/health": {"get": _op("存活检查", _json(obj, "进程在运行"), roles=None)},
        "/ready": {"get": _op("就绪检查：数据库和队列可达", _json(obj, "就绪"), roles=None,
                              errors=())},
        "/api/v1/openapi.json": {"get": _op("本文档", _json(obj, "OpenAPI 文档"), roles=None)},
        "/metrics": {"get": _op("监控指标（Prometheus 文本格式，只有汇总数字）", {
            "description": "指标", "content": {"text/plain": {"schema": {"type": "string"}}}},
            roles=["supervisor", "operator"])},
        "/api/v1/whoami": {"get": _op("令牌的角色", _json(
            {"type": "object", "properties": {"role": {"enum": ALL}}}, "角色"), roles=ALL)},
        "/api/v1/cases": {
            "get": _op("信访事项列表（筛选、分页，联系人信息脱敏）", _json(
                {"type": "object", "properties": {"cases": {"type": "array", "items": _ref("CaseRow")},
                                                  "next_cursor": {"type": ["string", "null"]}}}, "列表"),
                       roles=STAFF, errors=("400",), parameters=[
                           _q("status", "状态，可用逗号分隔多个"), _q("legal_route", "法定途径"),
                           _q("category", "类别"), _q("overdue", "是否超期", schema={"enum": ["true", "false"]}),
                           _q("limit", "每页条数（1–200，默认 50）", schema={"type": "integer"}),
                           _q("cursor", "上一页返回的 next_cursor")]),
            "post": _op("登记热线信访事项（经队列入库）", _json(
                {"type": "object", "properties": {"case_id": {"type": "string"}, "status": {"const": "queued"},
                                                  "query_code": {"type": "string", "description": "仅此一次"}}},
                "已接收"), roles=["operator", "supervisor"], errors=("400", "422"),
                body=_ref("CaseDraft"), ok_status="202"),
        },
        "/api/v1/cases/{case_id}": {"get": _op("完整信访事项", _json(_ref("Case"), "信访事项"), roles=STAFF,
                                               errors=("404",), parameters=[CASE_ID_PATH])},
        "/api/v1/cases/{case_id}/transitions": {"post": _op(
            "变更状态（延期仅限负责人；办结、复查、复核须附处理意见）", _json(_ref("Case"), "变更后的信访事项"),
            roles=["handler", "supervisor"], errors=("400", "404", "409", "422"), parameters=[CASE_ID_PATH],
            body=_ref("Transition"))},
        "/api/v1/cases/{case_id}/opinion": {"post": _op(
            "出具处理（复查、复核）意见并办结当前环节", _json(_ref("Case"), "变更后的信访事项"),
            roles=["handler", "supervisor"], errors=("400", "404", "409", "422"), parameters=[CASE_ID_PATH],
            body=_ref("OpinionIn"))},
        "/api/v1/supervision": {"get": _op("督办清单：超期的信访事项", _json(
            {"type": "object", "properties": {"items": {"type": "array", "items": obj}}}, "督办清单"),
            roles=["supervisor"], parameters=[_q("all", "包括已解除的记录", schema={"enum": ["true", "false"]})])},
        "/api/v1/dead-letters": {"get": _op("队列死信（含错误信息）", _json(
            {"type": "object", "properties": {"dead_letters": {"type": "array", "items": obj}}}, "死信"),
            roles=["supervisor", "operator"], errors=("400",),
            parameters=[_q("limit", "条数", schema={"type": "integer"})])},
        "/api/v1/notifications": {"get": _op("网页会话待取的通知（取后即标记已送达）", _json(
            {"type": "object", "properties": {"notifications": {"type": "array", "items": {
                "type": "object", "properties": {"id": {"type": "integer"}, "case_id": {"type": "string"},
                                                 "text": {"type": "string"}, "created_at": {"type": "string"}}}}}},
            "通知"), roles=["bot"], errors=("400",),
            parameters=[_q("channel", "只能是 webchat", required=True), _q("user", "网页会话 id", required=True)])},
        "/api/v1/progress": {"get": _op("凭编号和查询码查询进展", _json(_ref("Progress"), "进展"), roles=None,
                                        errors=("400", "404", "429"), parameters=[
                                            _q("case_id", "信访件编号", required=True),
                                            _q("code", "查询码", required=True)])},
        "/api/v1/progress/by-channel-user": {"get": _op("按微信 openid 查询其提交的信访事项进展", _json(
            {"type": "object", "properties": {"cases": {"type": "array", "items": _ref("Progress")}}}, "进展"),
            roles=["bot"], errors=("400",),
            parameters=[_q("channel", "渠道，如 wechat", required=True), _q("user", "openid", required=True)])},
        "/api/v1/progress/evaluation": {"post": _op("办结后评价（每个处理意见一次）", _json(obj, "已记录"),
                                                    roles=None, errors=("400", "404", "409", "422", "429"),
                                                    body=_ref("Evaluation"), ok_status="201")},
        "/api/v1/progress/review-request": {"post": _op(
            "申请复查（办结后30日内）或复核（复查意见后30日内）", _json(_ref("Progress"), "申请已登记"), roles=None,
            errors=("400", "404", "409", "422", "429"), body=_ref("ReviewRequest"))},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "信访事项后台 API", "version": "1.0.0",
                 "description": "工作人员令牌（Bearer）按角色授权，见各操作的 x-roles；公众接口凭编号和查询码。"},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": SCHEMAS,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
