"""In order to use the assistant from any web client
As Gao Lei, whose messages arrive over HTTP at the rasa server's REST channel
I want the same conversation as everywhere else, ending in a stored case.
"""
import json
import urllib.request

import pytest

from tests.support.forms import QUESTION_CUES, SUMMARY_CUE
from tests.support.stack import rasa_server

pytestmark = pytest.mark.needs_model

GAO = {
    "description": "小区门口的路灯坏了两个月了，晚上黑漆漆的，老人摔倒过好几次",
    "respondent": "区城市管理局",
    "occurred": "两个月前",
    "location": "春华路小区门口",
    "demand": "尽快修好路灯",
    "petitioner_name": "高磊",
    "phone": "13811112222",
    "address": "春华路小区4号楼",
    "id_number": "不提供",
}


@pytest.fixture(scope="module")
def rest_server(model_path, stack, tmp_path_factory):
    var = tmp_path_factory.mktemp("rest")
    with rasa_server(model_path, stack, var, credentials="rest:\n", ready_path="/webhooks/rest/") as server:
        yield server.url + "/webhooks/rest/webhook"


def post(url: str, sender: str, text: str) -> str:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return "\n".join(m.get("text", "") for m in json.loads(response.read()))


def test_gao_files_a_case_over_http(rest_server, backend):
    answer = post(rest_server, "gao-lei", "我要反映问题")
    for _ in range(12):
        if SUMMARY_CUE in answer:
            break
        slot = next(slot for cue, slot in QUESTION_CUES.items() if cue in answer)
        answer = post(rest_server, "gao-lei", GAO[slot])
    assert SUMMARY_CUE in answer
    filed = post(rest_server, "gao-lei", "确认")
    case_id = next(word for word in filed.replace("：", " ").split() if word.startswith("XF"))
    case = backend.wait_for_case(case_id)
    assert case["petitioner"]["name"] == "高磊"
    assert "路灯" in case["description"]
