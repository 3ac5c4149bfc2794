"""Calls in the double: place an inbound call to a number and get the caller's journey.

    from tests.twilio_double.voice import PrimaryOutcome
    journey = double.place_call(
        to="+14155550101", from_="+15551230000",
        primary=PrimaryOutcome.http_500,                  # or "http_500", an Answer, None
        callees={"+14155550188": "no-answer"},            # see people.Callee
        caller=Caller(message_seconds=12),
    )
    assert journey.outcome == "voicemail"
    print(journey)                                         # one step per line

``double.voice`` (:class:`VoiceNetwork`) holds what outlives one call: the virtual clock,
the scripted internet (``voice.internet.script(url, answer)``), callee scripts, and
TaskRouter's tasks (``voice.taskrouter``). ``place_calls([...])`` runs several calls at
once on the same clock (``CallSpec(at=…)`` staggers them).

An inbound call (Twilio's documented order, README "Calls"): a number bound to a trunk or
application is not simulated (error step); else its ``voice_url`` is requested with
``voice_method``; if that fails (11200 non-2xx, 11205 refused/timeout, 12100 not TwiML),
``voice_fallback_url`` is requested with ``voice_fallback_method`` plus ``ErrorCode`` and
``ErrorUrl`` (each failed request is also logged as a Monitor alert, :mod:`.monitor`); if
there is no fallback or it fails too, the caller hears Twilio's
application-error message and the call ends. A failure later in the call (an action or
redirect) is treated the same way.
Must not import: infra.*
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from . import calls, monitor, runtime
from .callflow import Journey, Signal, Simulation, Step, Wait
from .internet import Answer, Fetched, Internet, PrimaryOutcome, from_answer, request_url, sign
from .people import CalleeBook, CalleeScripts, Caller
from .state import AccountState, Record, now, rfc2822
from .studio_runner import StudioRunner
from .taskrouter_runner import TaskRouterRunner
from .twiml_runner import End, Process, run_url, say

APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."

__all__ = ["APPLICATION_ERROR", "CallSpec", "LiveCall", "PrimaryOutcome", "VoiceNetwork"]


@dataclass
class CallSpec:
    """One call of :meth:`VoiceNetwork.place_calls` (same meaning as ``place_call``)."""

    to: str
    from_: str = "+15005550006"
    primary: Answer | str | None = None
    caller: Caller = field(default_factory=Caller)
    at: float = 0.0  # seconds after the batch starts


class LiveCall:
    """The caller's leg while it runs: steps, time spent, requests, hangup."""

    def __init__(self, net: VoiceNetwork, number: Record, spec: CallSpec) -> None:
        self.net, self.sim, self.number, self.caller = net, net.sim, number, spec.caller
        self.to, self.from_ = number["phone_number"], spec.from_
        record = calls.new_call(net.state, from_=spec.from_, to=self.to, status="in-progress")
        self.record, self.sid = record, record["sid"]
        self.journey = Journey(self.sid, self.to, spec.from_, net.sim.now)
        self.ended = False
        self.hung_up_by_caller = False
        self.used_fallback = False
        self.in_queue = False
        self.flows: list[str] = []
        self.on_hangup: list[Any] = []
        self._holding: Signal | None = None
        self._pending: Any = None

    @property
    def active(self) -> bool:
        return not self.ended

    def params(self) -> dict[str, str]:
        """Twilio's standard voice webhook parameters for this call."""
        return {
            "AccountSid": self.net.state.account_sid, "ApiVersion": "2010-04-01",
            "CallSid": self.sid, "CallStatus": "in-progress" if self.active else "completed",
            "Direction": "inbound", "From": self.from_, "To": self.to, "Caller": self.from_,
            "Called": self.to,
        }  # fmt: skip

    def step(self, kind: str, text: str) -> None:
        self.journey.steps.append(Step(round(self.sim.now - self.journey.started, 1), kind, text))

    def change(self, text: str) -> None:
        self.journey.changes.append(text)

    def in_flow(self, url: str) -> bool:
        return urlsplit(url).path in [urlsplit(u).path for u in self.flows]

    def fetch(self, url: str, method: str, params: dict[str, str]) -> Fetched:
        fetched = self.net.request(url, method, {**self.params(), **params})
        self.journey.requests.append(fetched.log())
        return fetched

    def wait(self, seconds: float) -> Process:
        """Spend up to ``seconds``; returns None, ``"hangup"`` or what :meth:`interrupt` sent."""
        if self.ended:
            return "hangup"
        if self._pending is not None:
            value, self._pending = self._pending, None
            return value
        self._holding = Signal("hold")
        value = yield Wait(self._holding, seconds)
        self._holding = None
        return value

    def spend(self, seconds: float) -> Process:
        """Spend ``seconds`` on the line; False when the caller hung up meanwhile."""
        value = yield from self.wait(seconds)
        return value is None and not self.ended

    def interrupt(self, value: Any) -> None:
        """Wake the caller out of the current hold (a queue bridge)."""
        if self._holding is not None:
            self.sim.fire(self._holding, value)
        else:
            self._pending = value

    def hang_up(self, why: str, *, by_caller: bool = True) -> None:
        if self.ended:
            return
        self.ended, self.hung_up_by_caller = True, by_caller
        if by_caller and why != "after the conversation":
            self.step("hangup", f"caller hung up ({why})")
        for listener in list(self.on_hangup):
            listener(self)
        if self._holding is not None:
            self.sim.fire(self._holding, "hangup")

    def finish(self) -> None:
        """The call is over: fill the journey's outcome and the Call record (status
        ``completed``, one of the ended Call status values,
        https://www.twilio.com/docs/voice/api/call-resource; until then ``in-progress``)."""
        self.hang_up("end of call", by_caller=False)
        journey = self.journey
        journey.ended = self.sim.now
        if not journey.outcome:
            impatient = any(
                s.kind == "hangup" and "caller hung up" in s.text for s in journey.steps
            )
            if impatient:
                journey.outcome = "caller-hung-up"
            elif journey.said():
                journey.outcome = "message"
            else:
                journey.outcome = "hung-up"
        duration = int(journey.duration)
        self.record.update(status="completed", duration=str(duration), end_time=rfc2822(now()))


class VoiceNetwork:
    """Everything calls share in one double (see module doc)."""

    def __init__(
        self, state: AccountState, auth_token: str, lock: Any, limits: Any = None, api: Any = None
    ) -> None:
        self.state, self.auth_token, self.lock = state, auth_token, lock
        self.limits = limits
        """The double's ``Limits``: Studio's new-execution rate applies to calls too."""
        self.sim = Simulation()
        self.internet = Internet()
        self.callees = CalleeBook()
        self.studio = StudioRunner(self)
        self.taskrouter = TaskRouterRunner(self)
        self.api: Any = api
        """The double's REST dispatcher (``Incoming`` -> ``Outcome``): where a Function's
        requests to Twilio's API go (:mod:`.runtime`)."""

    def request(
        self, url: str, method: str, params: dict[str, str], *, signed: bool = True
    ) -> Fetched:
        """One request as Twilio makes it (signed unless ``signed=False``), answered by the
        Serverless runtime or the scripted internet."""
        method = method.upper()
        sent, form = request_url(url, method, params)
        signature = sign(self.auth_token, sent, form) if signed else ""
        fetched = Fetched(sent, method, form, signature)
        parts = urlsplit(sent)
        if runtime.is_runtime_host(parts.hostname or ""):
            runtime.serve(
                self.state, self.auth_token, self.internet, fetched, parts.hostname or "",
                parts.path, sent, self.api,
            )  # fmt: skip
        else:
            from_answer(fetched, self.internet.answer_for(url))
        self.internet.log.append({**fetched.log(), "from": "twilio"})
        return fetched

    def place_call(
        self, to: str, from_: str = "+15005550006", *, primary: Answer | str | None = None,
        callees: CalleeScripts | None = None, caller: Caller | None = None,
    ) -> Journey:  # fmt: skip
        """Place one inbound call and run it to its end (see module doc)."""
        spec = CallSpec(to, from_, primary, caller or Caller())
        return self.place_calls([spec], callees=callees)[0]

    def place_calls(
        self, specs: Sequence[CallSpec], *, callees: CalleeScripts | None = None
    ) -> list[Journey]:
        """Place several calls on one clock; returns their journeys in the same order."""
        self.callees.update(callees)
        with self.lock:
            live: list[LiveCall] = []
            for spec in specs:
                number = self._number(spec.to)
                if spec.primary is not None and number.get("voice_url"):
                    self.internet.script(number["voice_url"], spec.primary)
                call = LiveCall(self, number, spec)
                call.journey.started = self.sim.now + spec.at
                live.append(call)
                self.sim.spawn(self._inbound(call), delay=spec.at)
                if spec.caller.hangup_after is not None:
                    self.sim.at(
                        spec.at + spec.caller.hangup_after,
                        lambda c=call: c.hang_up(f"after {c.caller.hangup_after:g} s"),
                    )
            self.sim.run()
            return [call.journey for call in live]

    def _number(self, e164: str) -> Record:
        for number in self.state.numbers.values():
            if number["phone_number"] == e164:
                return number
        raise KeyError(f"no IncomingPhoneNumber {e164} in the double")

    def _inbound(self, call: LiveCall) -> Process:
        number = call.number
        call.step("ring", f"{call.from_} calls {call.to}")
        if number.get("trunk_sid") or number.get("voice_application_sid"):
            call.step("error", "number bound to a trunk or application: not simulated")
            call.finish()
            return
        end = End("failed", 11200, "")
        method = number.get("voice_method") or "POST"
        if number.get("voice_url"):
            end = yield from run_url(call, number["voice_url"], method)
        while end.reason == "failed" and call.active:
            call.step("error", f"{end.error_code} {end.error_url}")
            if end.error_url:  # Twilio logs the failed request as a Monitor alert (monitor.py)
                monitor.new_alert(
                    self.state, error_code=end.error_code or 11200, request_url=end.error_url,
                    request_method=method, resource_sid=call.sid,
                )  # fmt: skip
            fallback = number.get("voice_fallback_url")
            if call.used_fallback or not fallback:
                yield from say(call, APPLICATION_ERROR)
                call.journey.outcome = "application-error"
                break
            call.used_fallback = True
            extra = {"ErrorCode": str(end.error_code), "ErrorUrl": end.error_url or ""}
            method = number.get("voice_fallback_method") or "POST"
            end = yield from run_url(call, fallback, method, extra)
        call.finish()
