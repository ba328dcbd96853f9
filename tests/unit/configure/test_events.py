"""Typed events and recap parsing, on the shapes ansible-runner emits."""

from __future__ import annotations

from gpuforge.configure import EventKind, HostStats
from gpuforge.configure._events import failure_message, parse_event, parse_stats


def test_role_tasks_carry_the_short_role_name() -> None:
    event = parse_event(
        {
            "event": "runner_on_ok",
            "event_data": {
                "host": "gpu-0",
                "play": "Configure GPU nodes",
                "role": "gpuforge.gpu.nvidia_driver",
                "task": "Install the driver",
                "res": {"changed": True},
            },
        }
    )
    assert event is not None
    assert (event.kind, event.role, event.status) == (EventKind.OK, "nvidia_driver", "changed")


def test_untracked_events_are_dropped() -> None:
    assert parse_event({"event": "runner_item_on_ok", "event_data": {}}) is None
    assert parse_event({"event": "verbose"}) is None


def test_ignored_failures_are_marked() -> None:
    event = parse_event(
        {"event": "runner_on_failed", "event_data": {"ignore_errors": True, "res": {"msg": "x"}}}
    )
    assert event is not None and event.ignored and event.message == "x"


def test_failure_message_prefers_msg_and_adds_new_stderr() -> None:
    assert failure_message({"msg": "non-zero return code", "stderr": "E: no space"}) == (
        "non-zero return code: E: no space"
    )
    assert failure_message({"msg": "boom", "stderr": "boom"}) == "boom"
    assert failure_message({"rc": 4}) == "exited with status 4"
    assert failure_message({"msg": "ssh: @@@@\r\n@ HOST KEY CHANGED @\r\n@@@@\r\nbye"}) == (
        "ssh: @@@@ @ HOST KEY CHANGED @ bye"
    )
    assert len(failure_message({"msg": "y" * 5000})) == 600


def test_stats_cover_every_host_in_any_counter() -> None:
    stats = parse_stats(
        {
            "ok": {"a": 5, "b": 2},
            "changed": {"a": 1},
            "failures": {"b": 1},
            "dark": {"c": 1},
            "rescued": {},
            "ignored": {"a": 1},
            "skipped": {"a": 3},
            "processed": {"a": 1, "b": 1, "c": 1},
        }
    )
    assert stats["a"] == HostStats(ok=5, changed=1, skipped=3, ignored=1)
    assert [stats[h].status for h in "abc"] == ["ok", "failed", "unreachable"]
