"""What customers and counter staff read, in zh-CN and en, written once.

Templates are `str.format` strings; amounts are whole yuan (`¥320`). Tips carry their own
texts in the tips catalogue; these are the texts of the other kinds and of the reasons.
The peer comparison (app only) speaks of "similar homes" (相似家庭) and "efficient similar
homes", never of neighbours, rankings or waste (DESIGN.md: peer comparisons never shame),
states the figures plainly and points to what helps.
"""

from __future__ import annotations

from datetime import date
from typing import Final

from powerhall.tips import Language

ZH: Final = Language.ZH_CN.value
EN: Final = Language.EN.value
LANGUAGES: Final = (ZH, EN)

Texts = dict[str, dict[str, str]]
"""Template name -> language -> template."""

TARIFF: Final[Texts] = {
    "switch_title": {ZH: "为您推荐{tariff}", EN: "Switch to {tariff}"},
    "switch_message": {
        ZH: "为您推荐{tariff}，预计每年节省约 ¥{saving}{band}。",
        EN: "We recommend {tariff}: an expected saving of about ¥{saving} a year{band}.",
    },
    "band": {ZH: "（¥{p10}–¥{p90}）", EN: " (¥{p10}–¥{p90})"},
    "switch_script": {
        ZH: "按您过去一年的用电测算，改用{tariff}每年大约能省 {saving} 元。",
        EN: "Based on your last year of use, {tariff} would save you about {saving} yuan a year.",
    },
    "tou_risk_message": {
        ZH: "请注意：如用电习惯不变，最不利的年份电费可能比现在多约 ¥{risk}。",
        EN: " Please note: if your habits stay the same, in an unfavourable year your bill "
        "could be about ¥{risk} higher than now.",
    },
    "tou_risk_script": {
        ZH: "也请说明：用电习惯不变时，最不利的年份可能多付约 {risk} 元。",
        EN: " Also explain: with unchanged habits, an unfavourable year could cost about "
        "{risk} yuan more.",
    },
    "stay_title": {ZH: "继续使用当前电价方案", EN: "Stay on your current tariff"},
    "stay_message": {
        ZH: "我们测算了您可选的全部电价方案，您当前的{tariff}已是最适合您的，无需更换。",
        EN: "We checked every tariff open to you: your current {tariff} already suits you "
        "best, so there is no need to switch.",
    },
    "stay_script": {
        ZH: "帮您算过了，您现在的电价方案就是最划算的，不用换。",
        EN: "I have checked for you: your current tariff is already the best value, "
        "no need to change.",
    },
    "data_title": {ZH: "暂时无法给出电价建议", EN: "Not enough data for tariff advice yet"},
    "data_message": {
        ZH: "电价建议需要近一年至少{min_days}天、覆盖率不低于{coverage}%的用电读数；"
        "目前近一年有{days}天读数。",
        EN: "Tariff advice needs at least {min_days} days of readings covering at least "
        "{coverage} % of the last year; we have {days} days.",
    },
    "data_script": {
        ZH: "您的用电数据还不够，等数据满一年后再帮您测算最合适的电价。",
        EN: "We do not have enough of your readings yet; once we do, we can work out the "
        "best tariff for you.",
    },
}

TIP: Final[Texts] = {
    "saving_message": {
        ZH: "预计每年可节省约 ¥{saving}。",
        EN: " Estimated saving: about ¥{saving} a year.",
    },
}

RETENTION: Final[Texts] = {
    "title": {ZH: "客户经理专属回访", EN: "A personal review with your account manager"},
    "message": {
        ZH: "我们将安排客户经理为贵单位免费核查用电方案和账单，找出可以节省的地方。",
        EN: "Your account manager will review your tariff and bills with you, free of charge, "
        "to find where you can save.",
    },
    "script": {
        ZH: "请主动了解客户对电费和服务的意见，并为其预约客户经理回访。",
        EN: "Ask how they feel about their bills and our service, and book an "
        "account-manager review.",
    },
}

RECOVERY: Final[dict[str, Texts]] = {
    "outage": {
        "title": {ZH: "关于近期停电的致歉与回访", EN: "About your recent power outage"},
        "message": {
            ZH: "对{when}的停电给您带来的不便，我们深表歉意。如有损失或疑问，请告诉我们，"
            "我们会安排专人跟进。",
            EN: "We are sorry for the outage {when}. If it caused you a loss or you have "
            "questions, tell us and someone will follow up personally.",
        },
        "script": {
            ZH: "请先致歉：{when}停电给您添麻烦了；客户如有损失或不满，登记后转值班主管处理。",
            EN: "Apologise first for the outage {when}; if the customer reports a loss or is "
            "unhappy, log it and escalate to the duty supervisor.",
        },
    },
    "complaint": {
        "title": {ZH: "跟进您近期的投诉", EN: "Following up on your recent complaint"},
        "message": {
            ZH: "您{when}反映的问题我们非常重视。如仍未解决，请告诉我们，我们会请主管优先处理。",
            EN: "We take the issue you raised {when} seriously. If it is not resolved yet, "
            "tell us and a supervisor will handle it first.",
        },
        "script": {
            ZH: "客户{when}投诉过：请先询问问题是否已解决，未解决的转主管优先处理。",
            EN: "The customer complained {when}: ask whether it is resolved; if not, hand it "
            "to a supervisor first.",
        },
    },
    "care": {
        "title": {ZH: "服务关怀", EN: "Checking in on your service"},
        "message": {
            ZH: "最近的用电和服务是否顺心？如有任何问题，我们随时为您处理。",
            EN: "Is everything working well with your power and our service? If anything is "
            "wrong, we will sort it out.",
        },
        "script": {
            ZH: "请主动询问客户近期的用电与服务体验，有问题请主管协助解决。",
            EN: "Ask about the customer's recent supply and service; involve a supervisor for "
            "any problem.",
        },
    },
}

PEER: Final[dict[str, Texts]] = {
    "home": {
        "peers": {ZH: "相似家庭", EN: "similar homes"},
        "title": {ZH: "您家与相似家庭的用电对比", EN: "Your use beside similar homes"},
        "message": {
            ZH: "近三个月，您比相似家庭多用 {pct}%；节能家庭每月约 {efficient} 度。"
            "一些简单的用电习惯调整，或许就能帮您省下电费。",
            EN: "Over the last three months you used {pct} % more than similar homes; "
            "efficient similar homes use about {efficient} kWh a month. A few simple "
            "changes may lower your bill.",
        },
        "script": {
            ZH: "客户用电比相似家庭多 {pct}%：可介绍节能建议，不评价客户的用电习惯。",
            EN: "The customer uses {pct} % more than similar homes: offer saving tips "
            "without judging their habits.",
        },
    },
    "business": {
        "peers": {ZH: "同类用户", EN: "similar businesses"},
        "title": {ZH: "与同类用户的用电对比", EN: "Your use beside similar businesses"},
        "message": {
            ZH: "近三个月，贵单位比同类用户多用 {pct}%；节能的同类用户每月约 {efficient} 度。"
            "我们可以帮您找出节电空间。",
            EN: "Over the last three months you used {pct} % more than similar businesses; "
            "efficient similar businesses use about {efficient} kWh a month. We can help you "
            "find where to save.",
        },
        "script": {
            ZH: "客户用电比同类用户多 {pct}%：可介绍节能建议，不评价客户的用电方式。",
            EN: "The customer uses {pct} % more than similar businesses: offer saving tips "
            "without judging how they use power.",
        },
    },
}
"""Peer comparison texts by audience: residential customers are compared with homes,
commercial and industrial ones with businesses."""

PEER_ATTRIBUTES: Final[Texts] = {
    "region": {ZH: "同地区", EN: "in your region"},
    "electric_heating": {ZH: "同样使用电取暖", EN: "heating with electricity like you"},
    "no_electric_heating": {ZH: "同样不用电取暖", EN: "not heating with electricity, like you"},
    "capacity": {ZH: "合同容量相近", EN: "with a similar contracted capacity"},
}
"""What a peer group shares with the customer beyond the segment (`features.peers`)."""
PEER_ATTRIBUTE_SEPARATOR: Final = {ZH: "、", EN: ", "}

BILL: Final[Texts] = {
    "title": {ZH: "本月电费提醒", EN: "This month's bill"},
    "tier_title": {ZH: "预计 {date}进入第{tier}档电价", EN: "Tier {tier} prices from about {date}"},
    "tier_message": {
        ZH: "按当前用电，预计 {date}进入第{tier}档，本月电费约 ¥{bill}{usual}。",
        EN: "At your current use you will reach tier {tier} around {date}; this month's bill "
        "is likely about ¥{bill}{usual}.",
    },
    "message": {
        ZH: "按当前用电，本月电费约 ¥{bill}{usual}。",
        EN: "At your current use, this month's bill is likely about ¥{bill}{usual}.",
    },
    "usual": {ZH: "（通常 ¥{usual}）", EN: " (usually ¥{usual})"},
    "why": {ZH: "可能的原因：{reason}。", EN: " The likely reason: {reason}."},
    "script": {
        ZH: "客户本月电费预计约 {bill} 元{usual}，可提醒客户留意用电，并介绍节能建议。",
        EN: "The customer's bill this month is likely about {bill} yuan{usual}: mention it "
        "and offer saving tips.",
    },
    "tier_script": {
        ZH: "客户预计 {date}进入第{tier}档电价，本月电费约 {bill} 元{usual}，可提醒客户留意用电。",
        EN: "The customer reaches tier {tier} prices around {date}; this month's bill is likely "
        "about {bill} yuan{usual}: mention it.",
    },
    "script_usual": {ZH: "（通常 {usual} 元）", EN: " (usually {usual} yuan)"},
}
"""The bill alert: this month's forecast bill, the tier ahead, the likely reason."""

TIER_NAMES: Final = {ZH: ("一", "二", "三", "四", "五")}
"""Tiers are said 第一档, 第二档 ... in Chinese; in English by number."""
MONTH_NAMES: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

WHEN: Final[Texts] = {
    "today": {ZH: "今天", EN: "today"},
    "yesterday": {ZH: "昨天", EN: "yesterday"},
    "days": {ZH: "{days}天前", EN: "{days} days ago"},
}

REASONS: Final[Texts] = {
    "tariff_saving": {
        ZH: "按您近一年的用电曲线测算，每年约省 ¥{saving}",
        EN: "priced on your last year's load curve: about ¥{saving} saved a year",
    },
    "valley_share": {
        ZH: "您有{pct}%的电量用在低谷时段（22:00–06:00）",
        EN: "{pct} % of your use falls in the valley hours (22:00-06:00)",
    },
    "peak_valley_spread": {
        ZH: "该方案峰谷电价差 ¥{spread}/千瓦时",
        EN: "peak and valley prices differ by ¥{spread}/kWh on this tariff",
    },
    "tou_bill_risk": {
        ZH: "如用电习惯不变，最不利的年份电费可能多约 ¥{risk}",
        EN: "with unchanged habits an unfavourable year could cost about ¥{risk} more",
    },
    "stay_best": {
        ZH: "当前方案已是您可选方案中最划算的",
        EN: "your current tariff is already the cheapest open to you",
    },
    "stay_small_saving": {
        ZH: "其他方案每年最多只省 ¥{saving}，不值得更换",
        EN: "another tariff would save at most ¥{saving} a year, too little to switch",
    },
    "insufficient_data": {
        ZH: "近一年仅有{days}天用电读数",
        EN: "only {days} days of readings in the last year",
    },
    "tip_saving": {
        ZH: "按您的用电情况估算，每年约省 ¥{saving}",
        EN: "estimated from your own use: about ¥{saving} saved a year",
    },
    "your_spread": {
        ZH: "您的电价峰谷差 ¥{spread}/千瓦时",
        EN: "your tariff's peak and valley prices differ by ¥{spread}/kWh",
    },
    "segment_typical": {
        ZH: "按同类用户的典型用电估算",
        EN: "estimated from the typical use of similar customers",
    },
    "recent_outage": {ZH: "{when}经历停电", EN: "an outage {when}"},
    "recent_complaint": {ZH: "{when}投诉过", EN: "a complaint {when}"},
    "complaint_risk": {
        ZH: "未来30天投诉风险 {pct}%",
        EN: "{pct} % risk of a complaint in the next 30 days",
    },
    "churn_risk": {
        ZH: "未来90天流失风险 {pct}%",
        EN: "{pct} % risk of leaving in the next 90 days",
    },
    "peer_use": {
        ZH: "近三个月平均每月约 {kwh} 度，{peers}的中位数约 {median} 度",
        EN: "about {kwh} kWh a month over the last three months; the median of {peers} is "
        "about {median} kWh",
    },
    "peer_group": {
        ZH: "对比对象：{n}户{attributes}的{peers}",
        EN: "compared with {n} {peers}: {attributes}",
    },
    "peer_saving": {
        ZH: "如用电与{peers}的中位数持平，每年约省 ¥{saving}",
        EN: "using as much as the median of {peers} would save about ¥{saving} a year",
    },
    "bill_forecast": {
        ZH: "按本月已用电量和近四周的用电规律预测，本月电费约 ¥{p10}–¥{p90}",
        EN: "forecast from this month's use so far and the last four weeks: ¥{p10}-¥{p90} "
        "this month",
    },
    "bill_tier": {
        ZH: "本月部分电量将按第{tier}档电价计费",
        EN: "part of this month's use is priced in tier {tier}",
    },
    "bill_cooling": {
        ZH: "天气较热，空调用电增加，本月用电比平时多约{pct}%",
        EN: "hotter weather: more air conditioning, about {pct} % more use than usual",
    },
    "bill_heating": {
        ZH: "天气较冷，取暖用电增加，本月用电比平时多约{pct}%",
        EN: "colder weather: more electric heating, about {pct} % more use than usual",
    },
    "bill_ev": {
        ZH: "用电曲线显示有电动汽车充电，增加的用电{pct}%在充电时段",
        EN: "your load curve shows EV charging; {pct} % of the extra use is in charging hours",
    },
    "bill_evening": {
        ZH: "晚间（18–24点）用电比平时多约{pct}%，可能添置了新的用电设备",
        EN: "evening use (18:00-24:00) about {pct} % above usual: perhaps a new appliance",
    },
    "bill_higher_use": {
        ZH: "本月用电比平时多约{pct}%",
        EN: "about {pct} % more use than usual this month",
    },
}

CONDITIONS: Final[Texts] = {
    "has_ev_charger": {
        ZH: "用电曲线显示晚间有电动汽车充电",
        EN: "your load curve shows evening EV charging",
    },
    "has_air_conditioning": {
        ZH: "夏季用电明显高于春秋季（空调）",
        EN: "summer use well above spring and autumn (air conditioning)",
    },
    "has_electric_heating": {
        ZH: "冬季用电明显高于春秋季（电取暖）",
        EN: "winter use well above spring and autumn (electric heating)",
    },
    "night_share_365d": {
        ZH: "夜间（0–6点）用电占{pct}%",
        EN: "{pct} % of your use is at night (00:00-06:00)",
    },
    "peak_share_365d": {ZH: "高峰时段用电占{pct}%", EN: "{pct} % of your use is in peak hours"},
    "evening_share_365d": {
        ZH: "晚间（18–24点）用电占{pct}%",
        EN: "{pct} % of your use is in the evening (18:00-24:00)",
    },
    "kwh_365d": {ZH: "近一年用电{value}千瓦时", EN: "{value} kWh used in the last year"},
    "demand_capacity_ratio_365d": {
        ZH: "最大需量仅为合同容量的{pct}%",
        EN: "maximum demand is only {pct} % of the contracted capacity",
    },
    "load_factor_365d": {ZH: "负荷率{pct}%", EN: "load factor {pct} %"},
    "max_demand_kw_365d": {ZH: "最大需量{value}千瓦", EN: "maximum demand {value} kW"},
}
"""Phrases of the profile features tips are conditioned on (see the tips catalogue)."""


def yuan(value: float) -> str:
    """Whole yuan with thousands separators: what a customer reads as an amount."""
    return f"{value:,.0f}"


def kwh(value: float) -> str:
    """kWh to two significant digits, as 'about' promises (123.4 -> '120')."""
    return f"{float(f'{value:.2g}'):,.0f}"


def percent(share: float) -> str:
    return f"{share * 100:.0f}"


def tier(number: int, language: str) -> str:
    """'二' (as in 第二档) or '2'."""
    names = TIER_NAMES.get(language)
    return names[number - 1] if names and 1 <= number <= len(names) else str(number)


def day(value: date, language: str) -> str:
    """'9 月 12 日' or '12 September': a date as a bill reminder says it."""
    if language == ZH:
        return f"{value.month} 月 {value.day} 日"
    return f"{value.day} {MONTH_NAMES[value.month - 1]}"


def when(days: float, language: str) -> str:
    """'3 days ago' from a fractional number of days."""
    if days < 1:
        return WHEN["today"][language]
    if days < 2:
        return WHEN["yesterday"][language]
    return WHEN["days"][language].format(days=int(days))
