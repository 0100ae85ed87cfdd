"""Turns the benchmark's summary into the Markdown table, the target lines and the PNG chart.

summary = {"machine": str, "command": str, "date": str, "mock_ceiling": inv/s,
           "runtimes": {name: {metric: value}}, "build": {...}, "notes": [str]}
"""

RUNTIMES = ("bootstrap", "awslambdaric", "stdlib loop", "C loop (floor)")
FLOOR = "C loop (floor)"
BASELINE = "awslambdaric"
MIB = 1024 * 1024

# (key, label, format, lower is better)
ROWS = [
    ("cold_next_median_ms", "cold start: spawn -> first GET /next, median (ms)", "%.1f", True),
    ("cold_next_min_ms", "cold start: spawn -> first GET /next, min (ms)", "%.1f", True),
    ("cold_response_median_ms", "cold start: spawn -> first response, median (ms)", "%.1f", True),
    ("cold_response_min_ms", "cold start: spawn -> first response, min (ms)", "%.1f", True),
    ("small_cpu_us", "warm CPU per invocation, small event (µs)", "%.0f", True),
    ("small_inv_s", "warm invocations/s, small event", "%.0f", False),
    ("string_cpu_us", "warm CPU per invocation, 1 MiB string event (µs)", "%.0f", True),
    ("string_inv_s", "warm invocations/s, 1 MiB string event", "%.1f", False),
    ("records_cpu_us", "warm CPU per invocation, 1 MiB records event (µs)", "%.0f", True),
    ("records_inv_s", "warm invocations/s, 1 MiB records event", "%.1f", False),
    ("raw_string_inv_s", "raw mode (@raw) invocations/s, 1 MiB event", "%.1f", False),
    ("raw_string_cpu_us", "raw mode (@raw) CPU per invocation, 1 MiB event (µs)", "%.0f", True),
    ("rss_small_mib", "peak RSS after small events (MiB)", "%.1f", True),
    ("rss_big_mib", "peak RSS after 1 MiB events (MiB)", "%.1f", True),
    ("rss_six_rise_mib", "peak RSS rise over small events, 6 MB event (MiB)", "%.1f", True),
    ("zip_mb", "zip size (MB)", "%.3f", True),
]


def targets(summary):
    """[(label, passed, detail)] for the issue's targets (ratios vs awslambdaric, same run)."""
    ours, base = summary["runtimes"]["bootstrap"], summary["runtimes"][BASELINE]

    def ratio(key):
        return ours[key] / base[key]

    cold = ours["cold_response_median_ms"]
    out = [
        ("spawn -> first response <= 0.33x awslambdaric", ratio("cold_response_median_ms") <= 0.33,
         "%.1f ms vs %.1f ms = %.2fx" % (cold, base["cold_response_median_ms"], ratio("cold_response_median_ms"))),
        ("spawn -> first response <= 12 ms median", cold <= 12, "%.1f ms" % cold),
        ("warm CPU per invocation <= 0.2x awslambdaric", ratio("small_cpu_us") <= 0.2,
         "%.0f µs vs %.0f µs = %.2fx%s" % (ours["small_cpu_us"], base["small_cpu_us"], ratio("small_cpu_us"),
                                          _floor_detail(summary))),
        ("1 MiB JSON event invocations/s >= 1.5x awslambdaric", ratio("records_inv_s") >= 1.5,
         "records: %.1f/s vs %.1f/s = %.2fx" % (ours["records_inv_s"], base["records_inv_s"],
                                               ratio("records_inv_s"))),
        ("peak RSS <= 10 MiB", ours["rss_small_mib"] <= 10, "%.1f MiB (small events)" % ours["rss_small_mib"]),
        ("function.zip <= 2.5 MB", ours["zip_mb"] <= 2.5, "%.2f MB" % ours["zip_mb"]),
    ]
    return out + large_event_targets(summary)


def large_event_targets(summary):
    """Issue 15's targets: large events at memory speed."""
    ours, base = summary["runtimes"]["bootstrap"], summary["runtimes"][BASELINE]
    out = []
    for shape in ("string", "records"):
        key = shape + "_inv_s"
        out.append(("1 MiB %s event invocations/s >= 3x awslambdaric" % shape, ours[key] >= 3 * base[key],
                    "%.1f/s vs %.1f/s = %.2fx" % (ours[key], base[key], ours[key] / base[key])))
    for shape, libs in summary["codec"].items():
        mine, anchor = libs["runtime"], libs["orjson"]
        total, anchor_total = mine["decode"] + mine["encode"], anchor["decode"] + anchor["encode"]
        out.append(("%s decode + encode in the runtime <= 2x orjson's" % shape, total <= 2 * anchor_total,
                    "%.3f + %.3f = %.3f ms vs %.3f + %.3f = %.3f ms = %.2fx"
                    % (mine["decode"], mine["encode"], total, anchor["decode"], anchor["encode"], anchor_total,
                       total / anchor_total)))
    out.append(("peak RSS over 1 MiB events <= 0.6x awslambdaric", ours["rss_big_mib"] <= 0.6 * base["rss_big_mib"],
                "%.1f MiB vs %.1f MiB = %.2fx" % (ours["rss_big_mib"], base["rss_big_mib"],
                                                  ours["rss_big_mib"] / base["rss_big_mib"])))
    six = summary["six_mb"] / MIB
    rise = ours["rss_six_rise_mib"]
    # The receive buffer, the decoded string and the sent result: 3x the event, nothing more.
    out.append(("6 MB event + response: no copy beyond receive buffer, decoded objects, send (RSS rise <= 3x event)",
                rise <= 3 * six, "%.1f MiB = %.2fx the %.1f MiB event (awslambdaric: %.1f MiB = %.2fx)"
                % (rise, rise / six, six, base["rss_six_rise_mib"], base["rss_six_rise_mib"] / six)))
    return out


def _floor_detail(summary):
    floor = summary["runtimes"].get(FLOOR, {}).get("small_cpu_us")
    if floor is None:
        return ""
    base = summary["runtimes"][BASELINE]["small_cpu_us"]
    return " (the C floor: %.0f µs = %.2fx)" % (floor, floor / base)


def markdown(summary):
    runtimes = summary["runtimes"]
    lines = [
        "# Benchmark: compiled bootstrap vs awslambdaric vs a stdlib loop",
        "",
        "- command: `%s`" % summary["command"],
        "- machine: %s" % summary["machine"],
        "- date: %s; %s" % (summary["date"], summary["plan"]),
        "- mock Runtime API ceiling (trivial in-process client): %.0f invocations/s" % summary["mock_ceiling"],
        "",
        "| metric | " + " | ".join(RUNTIMES) + " | bootstrap / awslambdaric |",
        "|---|" + "---:|" * (len(RUNTIMES) + 1),
    ]
    for key, label, fmt, _ in ROWS:
        cells = [fmt % runtimes[name][key] if runtimes.get(name, {}).get(key) is not None else "n/a"
                 for name in RUNTIMES]
        ours, base = runtimes["bootstrap"].get(key), runtimes[BASELINE].get(key)
        ratio = "%.2fx" % (ours / base) if ours is not None and base else ""
        lines.append("| %s | %s | %s |" % (label, " | ".join(cells), ratio))
    lines += ["", "JSON codec alone (ms, best of the repeats; orjson writes UTF-8, so its encode is a lower bound):",
              "", "| event | library | decode | encode | decode + encode |", "|---|---|---:|---:|---:|"]
    for shape, libs in summary["codec"].items():
        for name, t in libs.items():
            lines.append("| %s | %s | %.3f | %.3f | %.3f |" % (shape, name, t["decode"], t["encode"],
                                                               t["decode"] + t["encode"]))
    build = summary["build"]
    lines += [
        "",
        "Build of the bootstrap: first build %.1f s, cached rebuild %.1f s (built %s)."
        % (build["first_build_s"], build["cached_rebuild_s"], build["built_at"]),
        "",
        "| target | result | measured |",
        "|---|---|---|",
    ]
    for label, passed, detail in targets(summary):
        lines.append("| %s | %s | %s |" % (label, "PASS" if passed else "FAIL", detail))
    lines += ["", "Notes:"] + ["- " + note for note in summary["notes"]]
    return "\n".join(lines) + "\n"


def chart(summary, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runtimes = summary["runtimes"]
    panels = [  # (key, title, absolute target or None)
        ("cold_response_median_ms", "spawn -> first response\nmedian (ms, lower is better)", 12),
        ("small_cpu_us", "warm CPU / invocation\nsmall event (µs, lower is better)",
         0.2 * runtimes[BASELINE]["small_cpu_us"]),
        ("string_inv_s", "invocations/s, 1 MiB string event\n(higher is better)", None),
        ("records_inv_s", "invocations/s, 1 MiB records event\n(higher is better)", None),
        ("rss_small_mib", "peak RSS, small events\n(MiB, lower is better)", 10),
        ("zip_mb", "zip size\n(MB, lower is better)", 2.5),
    ]
    colors = {"bootstrap": "#2a7ab0", "awslambdaric": "#e08a2e", "stdlib loop": "#8c8c8c", FLOOR: "#b8b8b8"}
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4.2))
    for ax, (key, title, target) in zip(axes, panels):
        names = [n for n in RUNTIMES if runtimes.get(n, {}).get(key) is not None
                 and not (key.endswith("_inv_s") and key != "small_inv_s" and n == FLOOR)]  # raw bytes
        values = [runtimes[n][key] for n in names]
        bars = ax.bar(range(len(names)), values, color=[colors[n] for n in names])
        if key == "string_inv_s" and runtimes["bootstrap"].get("raw_string_inv_s"):
            names.append("bootstrap @raw")
            bars = list(bars) + list(ax.bar([len(names) - 1], [runtimes["bootstrap"]["raw_string_inv_s"]],
                                            color="#5fb0e0", hatch="//"))
            values.append(runtimes["bootstrap"]["raw_string_inv_s"])
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=20, ha="right", fontsize=8)
        ax.set_title(title, fontsize=9)
        for bar, value in zip(bars, values):
            ax.annotate("%.3g" % value, (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=8)
        if target is not None:
            ax.axhline(target, color="#c03030", linestyle="--", linewidth=1)
            ax.annotate("target", (len(names) - 0.5, target), color="#c03030", fontsize=7,
                        ha="right", va="bottom")
        ax.margins(y=0.15)
    fig.suptitle("%s\n%s" % (summary["command"], summary["machine"]), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
