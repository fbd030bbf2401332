"""The feature catalogue: every profile feature, written once.

SQL here uses Spark SQL's function vocabulary; `features.profiles.engines` gives DuckDB
the few functions it names differently (`unix_date`, `from_utc_timestamp`, ...), so both
engines run this exact text. `{tz}` is the customers' local zone (from settings).

Days are local dates as days since 1970-01-01; a week runs Monday to Sunday and a
snapshot is taken on Monday 00:00 local time from the rows of earlier days only.
"""

from __future__ import annotations

from collections.abc import Iterable

from features.profiles.model import Feature, Measure, Source, View, Window
from powerhall.contract import (
    KWH_COLUMNS,
    EventKind,
    Outcome,
    ReadingQuality,
    SuggestionKind,
    Table,
)

W7 = Window("7d", 7)
W30 = Window("30d", 30)
W90 = Window("90d", 90)
W365 = Window("365d", 365)
W30_YEAR_AGO = Window("30d_ly", 30, lag_weeks=52)
W90_YEAR_AGO = Window("90d_ly", 90, lag_weeks=52)
"""The same days one year (52 weeks) earlier: for year-on-year change without seasonality."""
ALL = Window("all", None)
WINDOWS: tuple[Window, ...] = (W7, W30, W90, W365, W30_YEAR_AGO, W90_YEAR_AGO, ALL)

LONG_WAIT_MINUTES = 30
"""A hall visit whose queue took longer than this is a bad experience customers remember."""

VALLEY_HOURS = (22, 23, 0, 1, 2, 3, 4, 5)
PEAK_HOURS = (8, 9, 10, 18, 19, 20)
BANDS = {
    "night": range(0, 6),
    "morning": range(6, 12),
    "afternoon": range(12, 18),
    "evening": range(18, 24),
}
SUMMER_MONTHS = (6, 7, 8)
WINTER_MONTHS = (12, 1, 2)
SHOULDER_MONTHS = (4, 5, 10, 11)
"""Months with little heating or cooling: the baseline that seasonal excess is measured on."""

EV_STEP_KWH = 4.0
EV_EVENING_HOURS = range(17, 24)
EV_DAYS_SHARE = 0.05
SEASONAL_EXCESS = 1.1
SEASON_MIN_DAYS = 30
"""Appliance rules. An EV charger (7 kW at home) shows as an evening hour that rises by
at least EV_STEP_KWH over the hour before and at least doubles it, on at least
EV_DAYS_SHARE of days; electric heating (air conditioning) as winter (summer) kWh per day
at least SEASONAL_EXCESS times the shoulder months'. Thresholds were chosen on generated
data and are checked against its hidden truth by `benchmarks/bench_profiles.py`."""


def _hour(h: int) -> str:
    return f"h{h:02d}"


def _kwh(hours: Iterable[int]) -> str:
    return " + ".join(f"COALESCE({_hour(h)}, 0)" for h in hours)


def _not_nan(column: str) -> str:
    """Missing values arrive as NULL or NaN depending on the writer; both mean missing."""
    return f"CASE WHEN isnan({column}) THEN NULL ELSE {column} END"


def _local_day(ts: str) -> str:
    return f"unix_date(CAST(from_utc_timestamp({ts}, '{{tz}}') AS DATE))"


def _flag(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


def _in(column: str, values: Iterable[object]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


_DAY_KWH = _kwh(range(24))
_HOURS_SEEN = " + ".join(f"{_flag(f'{_hour(h)} IS NOT NULL')}" for h in range(24))
_WEEKEND = "(day + 3) % 7 >= 5"  # 1970-01-01 was a Thursday; Monday is 0

READINGS = Source(
    name="readings",
    rows_sql=f"""
        SELECT customer_id, unix_date(date) AS day, month(date) AS month_of_year, quality,
               {_not_nan("max_demand_kw")} AS max_demand_kw,
               {", ".join(f"{_not_nan(c)} AS {_hour(h)}" for h, c in enumerate(KWH_COLUMNS))}
        FROM {Table.READINGS}
    """,
    measures=(
        Measure("kwh", _DAY_KWH),
        Measure("hours", _HOURS_SEEN),
        Measure("days", _flag(f"({_HOURS_SEEN}) > 0")),
        Measure("estimated_days", _flag(f"quality = '{ReadingQuality.ESTIMATED}'")),
        *(Measure(f"kwh_{band}", _kwh(hours)) for band, hours in BANDS.items()),
        Measure("kwh_valley", _kwh(VALLEY_HOURS)),
        Measure("kwh_peak", _kwh(PEAK_HOURS)),
        Measure("kwh_weekday", f"CASE WHEN NOT {_WEEKEND} THEN {_DAY_KWH} ELSE 0 END"),
        Measure("days_weekday", _flag(f"NOT {_WEEKEND}")),
        Measure("kwh_weekend", f"CASE WHEN {_WEEKEND} THEN {_DAY_KWH} ELSE 0 END"),
        Measure("days_weekend", _flag(_WEEKEND)),
        Measure(
            "kwh_summer",
            f"CASE WHEN {_in('month_of_year', SUMMER_MONTHS)} THEN {_DAY_KWH} ELSE 0 END",
        ),
        Measure("days_summer", _flag(_in("month_of_year", SUMMER_MONTHS))),
        Measure(
            "kwh_winter",
            f"CASE WHEN {_in('month_of_year', WINTER_MONTHS)} THEN {_DAY_KWH} ELSE 0 END",
        ),
        Measure("days_winter", _flag(_in("month_of_year", WINTER_MONTHS))),
        Measure(
            "kwh_shoulder",
            f"CASE WHEN {_in('month_of_year', SHOULDER_MONTHS)} THEN {_DAY_KWH} ELSE 0 END",
        ),
        Measure("days_shoulder", _flag(_in("month_of_year", SHOULDER_MONTHS))),
        Measure(
            "ev_days",
            _flag(
                " OR ".join(
                    f"({_hour(h)} - {_hour(h - 1)} >= {EV_STEP_KWH} "
                    f"AND {_hour(h)} >= 2 * {_hour(h - 1)})"
                    for h in EV_EVENING_HOURS
                )
            ),
        ),
        Measure("max_hour_kwh", f"GREATEST({', '.join(_hour(h) for h in range(24))})", "max"),
        Measure("max_day_kwh", f"CASE WHEN ({_HOURS_SEEN}) > 0 THEN {_DAY_KWH} END", "max"),
        Measure("max_demand_kw", "max_demand_kw", "max"),
    ),
)

_PAID_DATE = "CAST(from_utc_timestamp(paid_at, '{tz}') AS DATE)"
BILLS = Source(
    name="bills",
    # A bill is known the day after its period ends; it is overdue from its due date
    # (a payment that day or earlier is on time) until the day it is paid.
    rows_sql=f"""
        SELECT customer_id, unix_date(add_months(CAST(CONCAT(period, '-01') AS DATE), 1)) AS day,
               'issued' AS event, CAST(amount_cny AS DOUBLE) AS amount_cny,
               CAST(dayofmonth(last_day(CAST(CONCAT(period, '-01') AS DATE))) AS DOUBLE)
                   AS period_days
        FROM {Table.BILLS}
        UNION ALL
        SELECT customer_id, unix_date(due_date) + 1 AS day, 'overdue' AS event,
               CAST(amount_cny AS DOUBLE) AS amount_cny, CAST(NULL AS DOUBLE) AS period_days
        FROM {Table.BILLS}
        WHERE paid_at IS NULL OR {_PAID_DATE} > due_date
        UNION ALL
        SELECT customer_id, unix_date({_PAID_DATE}) AS day, 'paid_late' AS event,
               CAST(amount_cny AS DOUBLE) AS amount_cny, CAST(NULL AS DOUBLE) AS period_days
        FROM {Table.BILLS}
        WHERE paid_at IS NOT NULL AND {_PAID_DATE} > due_date
    """,
    measures=(
        Measure("bills", _flag("event = 'issued'")),
        Measure("bill_cny", "CASE WHEN event = 'issued' THEN amount_cny ELSE 0 END"),
        Measure(
            "bill_cny_per_day",
            "CASE WHEN event = 'issued' THEN amount_cny / period_days ELSE 0 END",
        ),
        Measure("late_bills", _flag("event = 'overdue'")),
        Measure(
            "arrears_change_cny",
            "CASE WHEN event = 'overdue' THEN amount_cny "
            "WHEN event = 'paid_late' THEN -amount_cny ELSE 0 END",
        ),
    ),
)

_KIND_COUNTS = {
    "hall_visits": EventKind.HALL_VISIT,
    "calls_95598": EventKind.CALL_95598,
    "complaints": EventKind.COMPLAINT,
    "outages": EventKind.OUTAGE,
    "meter_faults": EventKind.METER_FAULT,
    "app_logins": EventKind.APP_LOGIN,
}
_LAST_EVENT = {
    "last_complaint": EventKind.COMPLAINT,
    "last_outage": EventKind.OUTAGE,
    "last_app_login": EventKind.APP_LOGIN,
}
SERVICE_EVENTS = Source(
    name="service_events",
    rows_sql=f"""
        SELECT customer_id, {_local_day("ts")} AS day, ts, kind,
               {_not_nan("CAST(wait_minutes AS DOUBLE)")} AS wait_minutes,
               {_not_nan("CAST(satisfaction AS DOUBLE)")} AS satisfaction
        FROM {Table.SERVICE_EVENTS}
    """,
    measures=(
        *(Measure(name, _flag(f"kind = '{kind}'")) for name, kind in _KIND_COUNTS.items()),
        Measure(
            "wait_minutes",
            f"CASE WHEN kind = '{EventKind.HALL_VISIT}' THEN COALESCE(wait_minutes, 0) ELSE 0 END",
        ),
        Measure("waits", _flag(f"kind = '{EventKind.HALL_VISIT}' AND wait_minutes IS NOT NULL")),
        Measure(
            "long_waits",
            _flag(f"kind = '{EventKind.HALL_VISIT}' AND wait_minutes > {LONG_WAIT_MINUTES}"),
        ),
        # The latest survey's score, packed behind its time so that MAX picks it.
        Measure(
            "satisfaction_code",
            f"CASE WHEN kind = '{EventKind.SURVEY}' AND satisfaction IS NOT NULL "
            "THEN unix_seconds(ts) * 10 + CAST(satisfaction AS BIGINT) END",
            "max",
        ),
        *(
            Measure(f"{name}_at", f"CASE WHEN kind = '{kind}' THEN ts END", "max")
            for name, kind in _LAST_EVENT.items()
        ),
    ),
)

_DECLINES = (Outcome.DECLINED, Outcome.DISMISSED)
SUGGESTION_OUTCOMES = Source(
    name="suggestion_outcomes",
    # A suggestion counts as shown when shown and as accepted or declined when answered.
    rows_sql=f"""
        SELECT customer_id, {_local_day("shown_at")} AS day, kind, 'shown' AS event,
               shown_at AS event_at
        FROM {Table.SUGGESTION_OUTCOMES}
        UNION ALL
        SELECT customer_id, {_local_day("outcome_at")} AS day, kind, outcome AS event,
               outcome_at AS event_at
        FROM {Table.SUGGESTION_OUTCOMES}
        WHERE outcome_at IS NOT NULL
    """,
    measures=tuple(
        measure
        for kind in SuggestionKind
        for measure in (
            Measure(f"{kind}_shown", _flag(f"kind = '{kind}' AND event = 'shown'")),
            Measure(f"{kind}_accepted", _flag(f"kind = '{kind}' AND event = '{Outcome.ACCEPTED}'")),
            Measure(
                f"{kind}_declined",
                _flag(f"kind = '{kind}' AND {_in('event', (str(o) for o in _DECLINES))}"),
            ),
            Measure(
                f"{kind}_last_shown_at",
                f"CASE WHEN kind = '{kind}' AND event = 'shown' THEN event_at END",
                "max",
            ),
        )
    ),
)

SOURCES: tuple[Source, ...] = (READINGS, BILLS, SERVICE_EVENTS, SUGGESTION_OUTCOMES)


def _ratio(numerator: str, denominator: str) -> str:
    return f"({numerator}) / NULLIF({denominator}, 0)"


def _per_day(kwh: str, days: str) -> str:
    return _ratio(kwh, days)


def _bill_growth(window: Window, year_ago: Window) -> str:
    """Mean bill per day of the window against the same days a year earlier or, lacking
    those, against every bill before the window: a shock is visible in the first year."""
    recent = _ratio(f"{{bill_cny_per_day@{window.name}}}", f"{{bills@{window.name}}}")
    last_year = _ratio(f"{{bill_cny_per_day@{year_ago.name}}}", f"{{bills@{year_ago.name}}}")
    earlier = _ratio(
        f"{{bill_cny_per_day@all}} - {{bill_cny_per_day@{window.name}}}",
        f"{{bills@all}} - {{bills@{window.name}}}",
    )
    growth = _ratio(recent, f"COALESCE({last_year}, {earlier})")
    return f"CASE WHEN {{bills@{window.name}}} > 0 THEN {growth} - 1 END"


CONSUMPTION = View(
    name="consumption",
    description="Metered consumption: volumes, shape across the day, week and year, peaks.",
    features=(
        Feature("kwh_90d", "{kwh@90d}", "float", "kWh metered in the last 90 days."),
        Feature("kwh_365d", "{kwh@365d}", "float", "kWh metered in the last 365 days."),
        Feature(
            "avg_daily_kwh_90d",
            _per_day("{kwh@90d}", "{days@90d}"),
            "float",
            "Mean kWh per day with readings, last 90 days.",
        ),
        Feature(
            "reading_days_365d",
            "{days@365d}",
            "int",
            "Days with at least one hourly reading in the last 365 days.",
        ),
        *(
            Feature(
                f"estimated_days_{w.name}",
                f"{{estimated_days@{w.name}}}",
                "int",
                f"Days whose readings were estimated, not measured, last {w.days} days.",
            )
            for w in (W30, W90)
        ),
        Feature(
            "estimated_share_365d",
            _ratio("{estimated_days@365d}", "{days@365d}"),
            "float",
            "Share of reading days whose readings were estimated, not measured, last 365 days.",
        ),
        Feature(
            "load_factor_365d",
            _ratio(_ratio("{kwh@365d}", "{hours@365d}"), "{max_hour_kwh@365d}"),
            "float",
            "Mean hourly kWh divided by the highest hourly kWh, last 365 days (0-1).",
        ),
        *(
            Feature(
                f"{band}_share_365d",
                _ratio(f"{{kwh_{band}@365d}}", "{kwh@365d}"),
                "float",
                f"Share of kWh used {hours.start:02d}:00-{hours.stop:02d}:00 local time, "
                "last 365 days.",
            )
            for band, hours in BANDS.items()
        ),
        Feature(
            "valley_share_90d",
            _ratio("{kwh_valley@90d}", "{kwh@90d}"),
            "float",
            "Share of kWh in the valley hours 22:00-06:00, last 90 days.",
        ),
        Feature(
            "valley_share_365d",
            _ratio("{kwh_valley@365d}", "{kwh@365d}"),
            "float",
            "Share of kWh in the valley hours 22:00-06:00, last 365 days.",
        ),
        Feature(
            "peak_share_365d",
            _ratio("{kwh_peak@365d}", "{kwh@365d}"),
            "float",
            "Share of kWh in the peak hours 08:00-11:00 and 18:00-21:00, last 365 days.",
        ),
        Feature(
            "weekday_weekend_ratio_365d",
            _ratio(
                _per_day("{kwh_weekday@365d}", "{days_weekday@365d}"),
                _per_day("{kwh_weekend@365d}", "{days_weekend@365d}"),
            ),
            "float",
            "kWh per weekday divided by kWh per weekend day, last 365 days.",
        ),
        Feature(
            "summer_winter_ratio_365d",
            _ratio(
                _per_day("{kwh_summer@365d}", "{days_summer@365d}"),
                _per_day("{kwh_winter@365d}", "{days_winter@365d}"),
            ),
            "float",
            "kWh per day in June-August divided by kWh per day in December-February, "
            "last 365 days.",
        ),
        Feature(
            "kwh_yoy_change_90d",
            "CASE WHEN {days@90d} >= 75 AND {days@90d_ly} >= 75 THEN "
            + _ratio("{kwh@90d}", "{kwh@90d_ly}")
            + " - 1 END",
            "float",
            "Relative change of kWh in the last 90 days against the same 90 days a year "
            "earlier (0.1 = 10 % more); null unless both have 75 days with readings.",
        ),
        Feature(
            "max_hour_kwh_365d",
            "{max_hour_kwh@365d}",
            "float",
            "Highest kWh metered in one hour, last 365 days.",
        ),
        Feature(
            "max_day_kwh_365d",
            "{max_day_kwh@365d}",
            "float",
            "Highest kWh metered in one day, last 365 days.",
        ),
        Feature(
            "max_demand_kw_365d",
            "{max_demand_kw@365d}",
            "float",
            "Highest demand recorded by the meter in kW, last 365 days (C&I meters only).",
        ),
        Feature(
            "demand_capacity_ratio_365d",
            _ratio("{max_demand_kw@365d}", "contract_capacity_kva"),
            "float",
            "Highest demand in kW divided by the contracted capacity in kVA, last 365 days "
            "(C&I only; above 1 means the contract is too small).",
        ),
    ),
)

BILLING = View(
    name="billing",
    description="Bills and payment behaviour.",
    features=(
        Feature("bills_365d", "{bills@365d}", "int", "Bills issued in the last 365 days."),
        Feature(
            "avg_bill_cny_90d",
            _ratio("{bill_cny@90d}", "{bills@90d}"),
            "float",
            "Mean bill amount in yuan, bills issued in the last 90 days.",
        ),
        Feature(
            "avg_bill_cny_365d",
            _ratio("{bill_cny@365d}", "{bills@365d}"),
            "float",
            "Mean bill amount in yuan, bills issued in the last 365 days.",
        ),
        Feature(
            "bill_yoy_change_90d",
            "CASE WHEN {bills@90d_ly} > 0 THEN "
            + _ratio(
                _ratio("{bill_cny@90d}", "{bills@90d}"),
                _ratio("{bill_cny@90d_ly}", "{bills@90d_ly}"),
            )
            + " - 1 END",
            "float",
            "Relative change of the mean bill of the last 90 days against the same 90 days "
            "a year earlier.",
        ),
        *(
            Feature(
                f"bill_growth_{w.name}",
                _bill_growth(w, year_ago),
                "float",
                f"Relative change of the mean bill per day issued in the last {w.days} days "
                f"against the same {w.days} days a year earlier or, without bills then, "
                "against all earlier bills (0.1 = 10 % more).",
            )
            for w, year_ago in ((W30, W30_YEAR_AGO), (W90, W90_YEAR_AGO))
        ),
        Feature(
            "arrears_cny",
            "ROUND(COALESCE({arrears_change_cny@all}, 0), 2)",
            "float",
            "Yuan of bills past their due date and still unpaid at the snapshot.",
        ),
        Feature(
            "late_payments_365d",
            "{late_bills@365d}",
            "int",
            "Bills that fell due in the last 365 days and were not paid by their due date.",
        ),
    ),
)

_COUNT_LABELS = {
    "hall_visits": "Business-hall visits",
    "calls_95598": "Calls to the 95598 hotline",
    "complaints": "Complaints filed",
    "outages": "Outages that affected the customer",
    "meter_faults": "Meter faults",
    "long_waits": f"Business-hall visits that waited over {LONG_WAIT_MINUTES} minutes",
}
SERVICE = View(
    name="service",
    description="Service history across halls, the 95598 hotline and the grid.",
    features=(
        *(
            Feature(
                f"{name}_{w.name}", f"{{{name}@{w.name}}}", "int", f"{label}, last {w.days} days."
            )
            for name, label in _COUNT_LABELS.items()
            for w in (W30, W90, W365)
        ),
        Feature(
            "complaints_all",
            "COALESCE({complaints@all}, 0)",
            "int",
            "Complaints filed, any time before: with tenure, the customer's own proneness.",
        ),
        *(
            Feature(f"{name}_7d", f"{{{name}@7d}}", "int", f"{_COUNT_LABELS[name]}, last 7 days.")
            for name in ("outages", "complaints")
        ),
        Feature(
            "mean_wait_minutes_365d",
            _ratio("{wait_minutes@365d}", "{waits@365d}"),
            "float",
            "Mean wait in minutes at business-hall visits, last 365 days.",
        ),
        Feature(
            "last_satisfaction",
            "CAST({satisfaction_code@all} % 10 AS BIGINT)",
            "int",
            "Score (1-5) of the latest satisfaction survey answered, any time before.",
        ),
    ),
)

SERVICE_LIVE = View(
    name="service_live",
    description="Latest service events; the batch value is overwritten in real time by pushes.",
    features=tuple(
        Feature(
            f"{name}_at",
            f"{{{name}_at@all}}",
            "timestamp",
            f"Time (UTC) of the latest {kind.replace('_', ' ')} event.",
        )
        for name, kind in _LAST_EVENT.items()
    ),
)

ENGAGEMENT = View(
    name="engagement",
    description="App use and how the customer answered earlier suggestions, per kind.",
    features=(
        Feature("app_logins_30d", "{app_logins@30d}", "int", "App logins, last 30 days."),
        Feature("app_logins_90d", "{app_logins@90d}", "int", "App logins, last 90 days."),
        *(
            feature
            for kind in SuggestionKind
            for feature in (
                Feature(
                    f"{kind}_suggestions_shown_365d",
                    f"{{{kind}_shown@365d}}",
                    "int",
                    f"Suggestions of kind {kind} shown, any channel, last 365 days.",
                ),
                Feature(
                    f"{kind}_suggestions_accepted_365d",
                    f"{{{kind}_accepted@365d}}",
                    "int",
                    f"Suggestions of kind {kind} accepted, last 365 days.",
                ),
                Feature(
                    f"{kind}_suggestions_declined_365d",
                    f"{{{kind}_declined@365d}}",
                    "int",
                    f"Suggestions of kind {kind} declined or dismissed, last 365 days.",
                ),
                Feature(
                    f"last_{kind}_suggestion_at",
                    f"{{{kind}_last_shown_at@all}}",
                    "timestamp",
                    f"Time (UTC) a suggestion of kind {kind} was last shown.",
                ),
            )
        ),
    ),
)


def _seasonal_ratio(season: str) -> str:
    return (
        f"CASE WHEN {{days_{season}@365d}} >= {SEASON_MIN_DAYS} "
        f"AND {{days_shoulder@365d}} >= {SEASON_MIN_DAYS} THEN "
        + _ratio(
            _per_day(f"{{kwh_{season}@365d}}", f"{{days_{season}@365d}}"),
            _per_day("{kwh_shoulder@365d}", "{days_shoulder@365d}"),
        )
        + " END"
    )


_EV_SHARE = _ratio("{ev_days@90d}", "{days@90d}")
APPLIANCES = View(
    name="appliances",
    description="Appliances detected from the hourly load shape (EV charger, heating, AC).",
    features=(
        Feature(
            "ev_charging_days_share_90d",
            _EV_SHARE,
            "float",
            f"Share of reading days with an evening hour that rises by {EV_STEP_KWH:g} kWh or "
            "more and at least doubles: an EV charging session's signature, last 90 days.",
        ),
        Feature(
            "has_ev_charger",
            f"{_EV_SHARE} >= {EV_DAYS_SHARE}",
            "bool",
            f"EV charging detected on at least {EV_DAYS_SHARE:.0%} of days, last 90 days.",
        ),
        Feature(
            "winter_shoulder_ratio_365d",
            _seasonal_ratio("winter"),
            "float",
            "kWh per day in December-February over kWh per day in April-May and "
            "October-November, last 365 days (null without 30 days of each).",
        ),
        Feature(
            "summer_shoulder_ratio_365d",
            _seasonal_ratio("summer"),
            "float",
            "kWh per day in June-August over kWh per day in April-May and "
            "October-November, last 365 days (null without 30 days of each).",
        ),
        Feature(
            "has_electric_heating",
            f"{_seasonal_ratio('winter')} >= {SEASONAL_EXCESS}",
            "bool",
            f"Winter use at least {SEASONAL_EXCESS:g} times the shoulder months' "
            "(null when a season is missing).",
        ),
        Feature(
            "has_air_conditioning",
            f"{_seasonal_ratio('summer')} >= {SEASONAL_EXCESS}",
            "bool",
            f"Summer use at least {SEASONAL_EXCESS:g} times the shoulder months' "
            "(null when a season is missing).",
        ),
    ),
)

VIEWS: tuple[View, ...] = (CONSUMPTION, BILLING, SERVICE, SERVICE_LIVE, ENGAGEMENT, APPLIANCES)
"""Every view the profile builder writes, in the order its tables are written."""
