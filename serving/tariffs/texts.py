"""The one sentence a tariff comparison or simulation says about its advice, zh-CN and en.

It states what the numbers mean for the customer, or what is missing before they can be
given (DESIGN, safeguards): staff read it out at the counter, the app shows it.
"""

from __future__ import annotations

from typing import Final

from serving.suggestions.texts import EN, ZH, Texts

REASONS: Final[Texts] = {
    "no_readings": {
        ZH: "没有用电读数，暂时无法测算电价方案。",
        EN: "There are no readings yet, so tariffs cannot be compared.",
    },
    "short": {
        ZH: "近一年只有{days}天用电读数，至少需要{min_days}天才能测算电价方案。",
        EN: "Only {days} days of readings in the last year; tariff advice needs at least "
        "{min_days}.",
    },
    "patchy": {
        ZH: "近{days}天的读数只覆盖了{pct}%的小时，至少需要{min_pct}%才能测算电价方案。",
        EN: "Readings cover {pct} % of the hours of the last {days} days; tariff advice "
        "needs at least {min_pct} %.",
    },
    "vacant": {
        ZH: "近90天日均用电仅{kwh}千瓦时，可能无人使用，因此不提供节省建议。",
        EN: "Only {kwh} kWh a day over the last 90 days: the premises look vacant, so no "
        "saving advice is given.",
    },
    "stay": {
        ZH: "没有哪个可选方案每年能节省 ¥{min_saving} 以上，建议继续使用当前的{tariff}。",
        EN: "No tariff open to you saves ¥{min_saving} a year or more: staying on {tariff} "
        "is best.",
    },
    "switch": {
        ZH: "改用{tariff}预计每年节省约 ¥{saving}{band}。",
        EN: "Switching to {tariff} should save about ¥{saving} a year{band}.",
    },
    "band": {ZH: "（¥{p10}–¥{p90}）", EN: " (¥{p10}–¥{p90})"},
    "tou_risk": {
        ZH: "如用电习惯不变，最不利的年份可能比现在多付约 ¥{risk}。",
        EN: " If habits stay the same, an unfavourable year could cost about ¥{risk} more "
        "than now.",
    },
    "no_current": {
        ZH: "未提供当前电价方案：以下只比较各方案的电费，不给出节省建议。",
        EN: "No current tariff given: the bills are compared without saving advice.",
    },
    "unknown_current": {
        ZH: "当前电价方案 {tariff} 不在电价目录中，无法计算节省。",
        EN: "The current tariff {tariff} is not in the tariff catalogue, so savings cannot "
        "be worked out.",
    },
}


def reason(name: str, language: str, **values: object) -> str:
    return REASONS[name][language].format(**values)
