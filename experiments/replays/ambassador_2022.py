"""Replay the February 2022 Ambassador Bridge blockade and print the model against what happened.

The bridge closed to Canada-bound traffic on the evening of Mon 2022-02-07, US-bound traffic was
half open on Tue 02-08 and stopped from Wed 02-09; normal flow resumed on Mon 02-14
(``ambassador_2022.toml``). Nothing but the closure is scripted: diversion to the Blue Water Bridge,
its waits and any plant stoppages come out of the model. Observations and sources:
``OBSERVATIONS.md`` section 1.

    python experiments/replays/ambassador_2022.py [--reps N] [--seed S]
"""

from __future__ import annotations

from replay import Pair, args, pct, run, show

CLOSED = ("2022-02-08", "2022-02-14")  # days the bridge was (partly) closed
FEB = ("2022-02-01", "2022-03-01")
# Feb 2022 SB trucks (BTS Border Crossing Entry Data) against the Jan/Mar 2022 daily rate x 28
DETROIT_FEB, DETROIT_EXPECTED = 88_133, 109_800
PORT_HURON_FEB, PORT_HURON_EXPECTED = 72_996, 67_500


def measure(p: Pair) -> dict[str, float]:
    """The quantities compared with the observations (changes are episode against base)."""
    m = {
        "bwb_sb_load": p.change("cross_vehicles", "X_BWB", "sb", *CLOSED),
        "bwb_nb_load": p.change("cross_vehicles", "X_BWB", "nb", *CLOSED),
        "bwb_sb_p50": p.mean("alt", "cross_p50", "X_BWB", "sb", "2022-02-09", "2022-02-14"),
        "bwb_nb_p50": p.mean("alt", "cross_p50", "X_BWB", "nb", "2022-02-09", "2022-02-14"),
        "bwb_sb_p50_base": p.mean("base", "cross_p50", "X_BWB", "sb", "2022-02-09", "2022-02-14"),
        "bwb_nb_p50_base": p.mean("base", "cross_p50", "X_BWB", "nb", "2022-02-09", "2022-02-14"),
        "bwb_sb_p50_feb14": p.mean("alt", "cross_p50", "X_BWB", "sb", "2022-02-14", "2022-02-15"),
        "bwb_sb_p50_feb16": p.mean("alt", "cross_p50", "X_BWB", "sb", "2022-02-16", "2022-02-17"),
        "detroit_feb_sb": p.change("cross_served", "X_AMB", "sb", *FEB, how="sum"),
        "detroit_feb_nb": p.change("cross_served", "X_AMB", "nb", *FEB, how="sum"),
        "port_huron_feb_sb": p.change("cross_served", "X_BWB", "sb", *FEB, how="sum"),
        "detroit_lost_sb": -p.extra("cross_served", "X_AMB", "sb", *FEB),
        "port_huron_extra_sb": p.extra("cross_served", "X_BWB", "sb", *FEB),
        "trade_delayed_usd": p.kpi("trade_delayed_usd"),
        "trade_lost_usd": p.kpi("trade_lost_usd"),
        "downtime_hours": p.kpi("downtime_hours"),
    }
    m["port_huron_share_of_lost"] = m["port_huron_extra_sb"] / m["detroit_lost_sb"]
    return m


def main() -> None:
    a = args(__doc__)
    p = run("ambassador_2022", reps=a.reps, seed=a.seed)
    m = measure(p)
    base_feb = p.mean("base", "cross_served", "X_AMB", "sb", *FEB, how="sum")
    base_ph = p.mean("base", "cross_served", "X_BWB", "sb", *FEB, how="sum")
    show(
        f"Ambassador Bridge blockade, Feb 7-13 2022 ({a.reps} replications, seed {a.seed})",
        [
            ("Blue Water SB load, Feb 8-13, vs no blockade", pct(m["bwb_sb_load"]),
             "+86 % EB vehicles Feb 7-13", "MDOT via Times Herald 2022-02-14"),
            ("Blue Water NB load, Feb 8-13, vs no blockade", pct(m["bwb_nb_load"]),
             "4,700 trucks Feb 8 (~1.9x)", "Times Herald 2022-02-09"),
            ("Blue Water SB median wait Feb 9-13 (min)",
             f"{m['bwb_sb_p50']:.0f} (base {m['bwb_sb_p50_base']:.0f})",
             ">180 (3 h) Feb 7; >90 Feb 14", "CBSA via Detroit News; Times Herald"),
            ("Blue Water NB median wait Feb 9-13 (min)",
             f"{m['bwb_nb_p50']:.0f} (base {m['bwb_nb_p50_base']:.0f})",
             ">90 commercial; 4-6 h drivers", "Times Herald; WXYZ; mlive"),
            ("Blue Water SB median wait Feb 14 / Feb 16 (min)",
             f"{m['bwb_sb_p50_feb14']:.0f} / {m['bwb_sb_p50_feb16']:.0f}",
             ">90 / 'fairly normal'", "Times Herald; Chatham This Week"),
            ("Detroit SB trucks, Feb 2022, vs no blockade", pct(m["detroit_feb_sb"]),
             "-19.7 % (vs Jan/Mar rate)", "BTS Border Crossing Entry Data"),
            ("  model count (2024-calibrated) / published", f"{base_feb * (1 + m['detroit_feb_sb']):,.0f}",
             f"{DETROIT_FEB:,} of {DETROIT_EXPECTED:,}", "BTS BCED"),
            ("Detroit NB trucks, Feb 2022", pct(m["detroit_feb_nb"]), "-27 % y/y",
             "Statistics Canada 2022-04-06"),
            ("Port Huron SB trucks, Feb 2022, vs no blockade", pct(m["port_huron_feb_sb"]),
             "+8.2 % (vs Jan/Mar rate)", "BTS BCED"),
            ("  model count (2024-calibrated) / published", f"{base_ph * (1 + m['port_huron_feb_sb']):,.0f}",
             f"{PORT_HURON_FEB:,} of {PORT_HURON_EXPECTED:,}", "BTS BCED"),
            ("share of lost Detroit SB trucks at Port Huron", pct(m["port_huron_share_of_lost"]),
             "+25 %", "BTS BCED (5,524 of 21,666)"),
            ("trade delayed / lost (US$M)",
             f"{m['trade_delayed_usd'] / 1e6:,.0f} / {m['trade_lost_usd'] / 1e6:,.0f}",
             "~340/day x 6 days at stake", "BTS TransBorder; Michigan Treasury"),
            ("plant line-hours lost", f"{m['downtime_hours']:,.0f}", "10-15k vehicles (EST)",
             "AEG; OEM statements"),
        ],
    )  # fmt: skip
    losses = p.plant_losses("2022-02-07", "2022-02-21")
    print("  plants with output >2 % below the no-blockade run, by day (model):")
    for site, days in losses.items():
        print(f"    {site}: {', '.join(days)}")
    if not losses:
        print("    none: every plant's inputs held (input cover 1.5 days > the detour and queue)")
    print("  reported (OBSERVATIONS.md 1.3): Stellantis Windsor Feb 8-10; Ford Windsor engines Feb 9;")
    print("    Ford Oakville Feb 9-11; GM Lansing Delta Feb 9-11; Toyota Cambridge/Woodstock Feb 10-14+;")
    print("    Honda Alliston Feb 9-11; Toyota Georgetown KY Feb 9-12")


if __name__ == "__main__":
    main()
