"""The monthly report as it is posted (通报, plain text for A4) and as CSV for spreadsheets."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Sequence

from workflows.reports.assessment import Assessment, assess
from workflows.reports.monthly import METRICS, SATISFACTION_LEVELS, SATISFACTION_NAMES, MonthlyReport, PlaceFigures

LEVEL_NAMES = {"county": "县", "township": "乡镇", "village": "村（社区）"}
# Columns of the township and village tables: (metric, heading).
TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("petitions", "信访总量"), ("visit_batches", "来访批次"), ("visit_persons", "来访人次"),
    ("letters", "来信"), ("phone_calls", "来电"), ("online_messages", "网上留言"), ("group_visits", "集体访"),
    ("repeat_petitions", "重复访"), ("bypass_visits", "越级访"), ("on_the_spot_rate", "当场化解率"),
    ("on_time_rate", "按期办结率"), ("overdue", "超期"), ("extended", "延期"),
)
RATES = {metric for metric, _title, is_rate in METRICS if is_rate}
NOTES = (
    "信访总量＝来访批次＋来信件数＋来电件数（来访另计人次）；网上留言属网信工作、网格员下访上报的问题另计，均不计入信访总量。",
    "集体访：来访人数达到{threshold}人及以上；重复信访：与此前已登记事项关联的同一人同一诉求。",
    "越级访：到有权处理的机关的上一级以上走访（信访工作条例第二十条），含市、省、国家信访机构交办的来访；检举控告不计入。",
    "当场化解率＝当场答复或当场协调化解的来访批次÷来访批次；按期办结率＝本月办结中未超期件数÷本月办结件数。",
    "超期：本月在办或本月办结事项中已标记超期的件数；延期：本月办结事项中经批准延期的件数。",
    "满意率：信访人本人本月作出的评价中基本满意及以上的比例；承办单位代填的评价不计入。",
    "零上访村（社区）：本月无{zero_rule}登记的村（社区），列入一月一兑现奖励名单。",
)


def report_text(report: MonthlyReport) -> str:
    """The 通报 with Chinese headings, laid out for printing."""
    year, month = report.month.split("-")
    scope = report.scope
    title = f"{scope.name}信访工作情况通报"
    lines = [_center(title), _center(f"（{int(year)}年{int(month)}月）"), ""]
    lines += ["一、总体情况", summary_sentence(report), ""]
    overview = [["指标", "本月", f"上月({report.previous_month})", "环比",
                 f"去年同月({report.year_ago_month})", "同比"]]
    for metric, title_text, _is_rate in METRICS:
        overview.append([title_text, value_text(scope, "current", metric), value_text(scope, "previous", metric),
                         change_text(scope, metric, "previous"), value_text(scope, "year_ago", metric),
                         change_text(scope, metric, "year_ago")])
    lines += _table(overview) + [""]
    section = 2
    if report.townships:
        lines += [f"{_number(section)}、各乡镇情况"]
        lines += _table(_place_rows(report.townships, "乡镇")) + [""]
        section += 1
    active = [v for v in report.villages if v.current.petitions or v.previous.petitions]
    active.sort(key=lambda v: (-v.current.petitions, v.code))
    lines += [f"{_number(section)}、各村（社区）信访情况（本月或上月有信访的{len(active)}个）"]
    lines += _table(_place_rows(active, "村（社区）", with_township=report), text_columns=2) + [""]
    section += 1
    result = assess(report)
    lines += [f"{_number(section)}、一月一考核（满分{result.full_score:g}分）"] + _score_lines(report, result) + [""]
    section += 1
    zero = report.zero_petition_villages
    share = percent_text(_share(len(zero), report.village_count))
    lines += [f"{_number(section)}、零上访村（社区）（一月一兑现奖励名单）",
              f"本月{len(zero)}个村（社区）零上访，占{report.village_count}个的{share}；"
              f"兑现奖励合计{result.reward_total}元。"]
    lines += _zero_lines(report, result)
    lines += ["", "说明："] + [f"{index}. {note}" for index, note in enumerate(report_notes(report), 1)]
    return "\n".join(lines) + "\n"


def report_notes(report: MonthlyReport) -> list[str]:
    """How the figures are counted, in words, with the report's group threshold and zero-visit rule."""
    return [note.format(threshold=report.group_threshold, zero_rule=report.zero_rule) for note in NOTES]


def report_csv(report: MonthlyReport) -> str:
    """One row per place (the scope, its townships, its villages), each figure with last month and last year."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["月份", "层级", "乡镇", "代码", "名称"]
    for metric, title, _is_rate in METRICS:
        unit = "(%)" if metric in RATES else ""
        header += [f"{title}{unit}", f"{title}{unit}-上月", f"{title}{unit}-去年同月"]
    writer.writerow([*header, "考核得分", "兑现奖励(元)"])
    result = assess(report)
    scores = {s.place.code: s.score for s in (*result.villages, *result.townships)}
    rewards = {s.place.code: s.reward for s in result.rewards}
    names = {p.code: p.name for p in (report.scope, *report.townships)}
    for place in (report.scope, *report.townships, *report.villages):
        row: list[object] = [report.month, LEVEL_NAMES.get(place.level, place.level),
                             names.get(place.township or "", "") if place.level == "village" else "",
                             place.code, place.name]
        for metric, _title, _is_rate in METRICS:
            row += [_csv_value(getattr(place, slot).value(metric), metric)
                    for slot in ("current", "previous", "year_ago")]
        reward = rewards.get(place.code, 0) if place.level == "village" else ""
        writer.writerow([*row, scores.get(place.code, ""), reward])
    return out.getvalue()


def summary_sentence(report: MonthlyReport) -> str:
    now, scope = report.scope.current, report.scope
    sentence = (f"本月信访总量{now.petitions}件（批），环比{signed_text(scope.change('petitions', 'previous'))}，"
                f"同比{signed_text(scope.change('petitions', 'year_ago'))}。其中来访{now.visit_batches}批"
                f"{now.visit_persons}人次（集体访{now.group_visits}批、越级访{now.bypass_visits}批），"
                f"来信{now.letters}件，来电{now.phone_calls}件；"
                f"重复信访{now.repeat_petitions}件。当场化解率{percent_text(now.on_the_spot_rate)}，"
                f"办结{now.closed}件，按期办结率{percent_text(now.on_time_rate)}，超期{now.overdue}件，延期{now.extended}件。"
                f"群众评价{now.rated}件（其中电话回访、工作人员代录{now.recorded_ratings}件），"
                f"满意率{percent_text(now.satisfaction_rate)}（"
                + "、".join(f"{SATISFACTION_NAMES[level]}{getattr(now, level)}" for level in SATISFACTION_LEVELS)
                + f"）。另办理网上留言{now.online_messages}件，网格员下访上报问题{now.grid_reports}件。")
    if report.as_of is not None:
        sentence = f"（本月尚未结束，数字截至{report.as_of:%Y年%m月%d日%H:%M}。）" + sentence
    if "year_ago" in scope.unrecorded:
        sentence += f"（{report.year_ago_month}尚无记录，不作同比。）"
    return "    " + sentence


def _place_rows(places: Sequence[PlaceFigures], heading: str,
                with_township: MonthlyReport | None = None) -> list[list[str]]:
    towns = {p.code: p.name for p in with_township.townships} if with_township else {}
    if with_township is not None and with_township.scope.level == "township":
        towns[with_township.scope.code] = with_township.scope.name
    header = (["乡镇"] if with_township else []) + [heading] + [title for _m, title in TABLE_COLUMNS] + ["环比", "同比"]
    rows = [header]
    for place in places:
        row = ([towns.get(place.township or "", place.township or "")] if with_township else []) + [place.name]
        row += [value_text(place, "current", metric) for metric, _title in TABLE_COLUMNS]
        row += [signed_text(place.change("petitions", "previous")), signed_text(place.change("petitions", "year_ago"))]
        rows.append(row)
    return rows


def _score_lines(report: MonthlyReport, result: Assessment) -> list[str]:
    """Townships ranked by score, then the villages below full marks (lowest first)."""
    lines = [f"  第{rank}名 {s.place.name} {s.score:g}分" for rank, s in enumerate(result.townships, 1)]
    short = sorted((s for s in result.villages if s.score < result.full_score), key=lambda s: (s.score, s.place.code))
    towns = {p.code: p.name for p in (report.scope, *report.townships)}
    lines.append(f"  未得满分的村（社区）{len(short)}个" + ("：" if short else "。"))
    lines += [f"    {towns.get(s.place.township or '', '')}{s.place.name} {s.score:g}分" for s in short]
    return lines


def _zero_lines(report: MonthlyReport, result: Assessment) -> list[str]:
    amounts = {s.place.code: s.reward for s in result.rewards}
    by_town: dict[str, list[str]] = {}
    for village in report.zero_petition_villages:
        by_town.setdefault(village.township or "", []).append(f"{village.name}{amounts.get(village.code, 0)}元")
    names = {p.code: p.name for p in (report.scope, *report.townships)}
    return [f"  {names.get(code, code)}（{len(villages)}个）：{'、'.join(villages)}"
            for code, villages in by_town.items()]


def value_text(place: PlaceFigures, slot: str, metric: str) -> str:
    if slot in place.unrecorded:
        return "无记录"
    value = getattr(place, slot).value(metric)
    return percent_text(value) if metric in RATES else str(value)


def change_text(place: PlaceFigures, metric: str, against: str) -> str:
    delta = place.change(metric, against)
    if delta is None:
        return "—"
    if metric in RATES:
        return f"{delta * 100:+.1f}个百分点"
    before = getattr(place, against).value(metric)
    relative = f"（{delta / before:+.1%}）" if before else ""
    return f"{delta:+d}{relative}"


def signed_text(delta: float | int | None) -> str:
    return "—" if delta is None else f"{int(delta):+d}"


def percent_text(value: float | int | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _csv_value(value: float | int | None, metric: str) -> object:
    if value is None:
        return ""
    return round(value * 100, 1) if metric in RATES else value


def _number(n: int) -> str:
    return "一二三四五六七八九十"[n - 1]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    space = " " * (width - _width(text))
    return space + text if right else text + space


def _table(rows: list[list[str]], text_columns: int = 1) -> list[str]:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for number, row in enumerate(rows):
        cells = [_pad(cell, widths[i], right=i >= text_columns and number > 0) for i, cell in enumerate(row)]
        out.append("  ".join(cells).rstrip())
        if number == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def _center(text: str, width: int = 80) -> str:
    return " " * max((width - _width(text)) // 2, 0) + text
