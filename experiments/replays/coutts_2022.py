"""Replay the Coutts-Sweetgrass blockade (2022-01-29 to 02-15) and print the model against history.

Both directions were blocked from Sat 01-29, one lane each way opened on 02-02, traffic stopped
again from the night of 02-08 and the border reopened on the evening of 02-15
(``coutts_2022.toml``). Diversion to Carway, Del Bonita and North Portal comes out of route choice
and the queues. Observations and sources: ``OBSERVATIONS.md`` section 2.

    python experiments/replays/coutts_2022.py [--reps N] [--seed S]
"""

from __future__ import annotations

from replay import Pair, args, pct, run, show

FEB = ("2022-02-01", "2022-03-01")


def measure(p: Pair) -> dict[str, float]:
    """The quantities compared with the observations (changes are episode against base)."""
    lost = -p.extra("cross_served", "X_COU", "sb", *FEB)
    ab_mt = p.extra("cross_served", "X_CARWAY", "sb", *FEB) + p.extra(
        "cross_served", "X_DELB", "sb", *FEB
    )
    npo = p.extra("cross_served", "X_NPO", "sb", *FEB)
    return {
        "sweetgrass_feb_sb": p.change("cross_served", "X_COU", "sb", *FEB, how="sum"),
        "coutts_feb_nb": p.change("cross_served", "X_COU", "nb", *FEB, how="sum"),
        "sweetgrass_lost_sb": lost,
        "carway_delbonita_extra_sb": ab_mt,
        "north_portal_extra_sb": npo,
        "reappeared_share": (ab_mt + npo) / lost,
        "ab_mt_share": ab_mt / lost,
        "carway_p50_max": p.mean("alt", "cross_p50", "X_CARWAY", "sb", "2022-02-09", "2022-02-16"),
        "trade_delayed_usd": p.kpi("trade_delayed_usd"),
        "trade_lost_usd": p.kpi("trade_lost_usd"),
    }


def main() -> None:
    a = args(__doc__)
    p = run("coutts_2022", reps=a.reps, seed=a.seed)
    m = measure(p)
    show(
        f"Coutts blockade, Jan 29 - Feb 15 2022 ({a.reps} replications, seed {a.seed})",
        [
            ("Sweetgrass SB trucks, Feb 2022, vs no blockade", pct(m["sweetgrass_feb_sb"]),
             "-47.4 % (vs Jan/Mar rate)", "BTS BCED"),
            ("Coutts NB trucks, Feb 2022", pct(m["coutts_feb_nb"]), "-48 % y/y",
             "Statistics Canada 2022-04-06"),
            ("Sweetgrass SB trucks lost, Feb", f"{m['sweetgrass_lost_sb']:,.0f}", "5,103",
             "BTS BCED"),
            ("Carway + Del Bonita SB extra trucks, Feb", f"{m['carway_delbonita_extra_sb']:+,.0f}",
             "+2,534 (+696, +1,838)", "BTS BCED"),
            ("North Portal SB extra trucks, Feb", f"{m['north_portal_extra_sb']:+,.0f}",
             "+1,048 (SK + BC ports)", "BTS BCED"),
            ("share of lost trucks seen at other ports", pct(m["reappeared_share"]),
             "71 % (51 % AB-MT only)", "BTS BCED"),
            ("Carway SB median wait, mean Feb 9-15 (min)", f"{m['carway_p50_max']:.0f}",
             "limited hours; CBSA 7 h at Coutts", "Calgary Sun 2022-02-12"),
            ("trade delayed / lost (US$M)",
             f"{m['trade_delayed_usd'] / 1e6:,.0f} / {m['trade_lost_usd'] / 1e6:,.0f}",
             "C$44M/day at stake", "CME 2022-02-03"),
        ],
    )  # fmt: skip


if __name__ == "__main__":
    main()
