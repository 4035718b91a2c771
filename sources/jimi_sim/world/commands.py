"""Command templates per device model and the history of commands sent to each device.

`jimi.open.instruction.list` answers the templates a device's model supports (ids and texts after the
spec's example: 81 "SOS setting" `SOS,A,{0},{1},{2}#`, 96 user-defined `{0}`, 113/114 relay). The history
is what dispatchers sent through the web platform: on about one day in three a device receives one command
at a seeded time; it executes a few minutes later (status "1", the device's reply as content), fails ("0"),
or is cancelled ("4"); until then it is pending ("3"). `jimi.open.instruction.result` lists the last
`HISTORY_DAYS` days, newest first. Everything is a function of (seed, IMEI, day).
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sources.jimi_sim.world.catalogue import Device
from sources.jimi_sim.world.rand import noise

HISTORY_DAYS = 30
DAY_S = 86_400


class Template(NamedTuple):
    template_id: int
    name: str
    content: str
    explain: str
    offline: bool


_COMMON = (
    Template(
        81,
        "SOS setting",
        "SOS,A,{0},{1},{2}#",
        "SOS is used for receive alerts and SOS alerts. SOS number should have 3-20 numbers.",
        True,
    ),
    Template(96, "User-defined command", "{0}", "Send any command text to the device.", True),
    Template(99, "Status query", "STATUS#", "Query the device's status.", False),
    Template(
        104,
        "Upload interval",
        "TIMER,{0},{1}#",
        "GPS upload interval while moving and while parked, in seconds.",
        True,
    ),
)
_RELAY = (
    Template(113, "Cut off fuel", "RELAY,1#", "Cut off the fuel/power supply (relay on).", True),
    Template(114, "Restore fuel", "RELAY,0#", "Restore the fuel/power supply (relay off).", True),
)
_DASHCAM = (
    Template(201, "Take photo", "PICTURE,{0}#", "Take a photo with camera {0}.", False),
    Template(202, "Record video", "VIDEO,{0},{1}#", "Record {1} seconds of video with camera {0}.", False),
)
_REPLIES = {
    81: "SOS numbers set OK",
    96: "OK",
    99: "Battery:4.10V,NORMAL; GPRS:Link Up; GSM Signal Level:Strong",
    104: "TIMER OK",
    113: "Cut off the fuel supply: Success!",
    114: "Restore fuel supply: Success!",
    201: "Photo taken",
    202: "Video recorded",
}
_PARAMS = {
    81: "SOS,A,254711000111,254711000222,#",
    96: "WHERE#",
    99: "STATUS#",
    104: "TIMER,10,300#",
    113: "RELAY,1#",
    114: "RELAY,0#",
    201: "PICTURE,1#",
    202: "VIDEO,1,10#",
}


class Command(NamedTuple):
    sent: int  # epoch
    imei: str
    template: Template
    text: str  # the command as sent (template with its parameters)
    executed: int  # epoch the device answered
    outcome: str  # final isExecute: 1 executed, 0 failed, 4 cancelled

    def status(self, now: int) -> str:
        return self.outcome if now >= self.executed else "3"

    def reply(self, now: int) -> str:
        if now < self.executed:
            return ""
        if self.outcome == "1":
            return _REPLIES[self.template.template_id]
        return "Parameter error" if self.outcome == "0" else "Cancelled by the user"


def templates(device: Device) -> tuple[Template, ...]:
    extra = _DASHCAM if device.equipment.is_dashcam else ()
    relay = _RELAY if device.kind in ("car", "van") else ()
    return _COMMON + relay + extra


def history(seed: int, device: Device, now: datetime) -> list[Command]:
    """Commands sent in the last HISTORY_DAYS days up to now, newest first."""
    if not device.habits.reporting:
        return []
    end = int(now.timestamp())
    key = int(device.imei)
    options = templates(device)
    out = []
    for day in range(end // DAY_S - HISTORY_DAYS, end // DAY_S + 1):
        if noise(seed, key, day, 41) >= 0.33:
            continue
        sent = day * DAY_S + 5 * 3600 + int(12 * 3600 * noise(seed, key, day, 42))  # 08:00-20:00 local
        if sent > end or sent <= end - HISTORY_DAYS * DAY_S:
            continue
        template = options[int(len(options) * noise(seed, key, day, 43))]
        roll = noise(seed, key, day, 44)
        outcome = "1" if roll < 0.85 else ("0" if roll < 0.95 else "4")
        executed = sent + 30 + int(900 * noise(seed, key, day, 45))
        out.append(Command(sent, device.imei, template, _PARAMS[template.template_id], executed, outcome))
    return sorted(out, key=lambda command: -command.sent)
