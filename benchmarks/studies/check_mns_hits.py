"""Is the replayed Gaussian stop exact? Check that the method-noise statistic only falls during the wait.

``replay_mns.py`` replays ``mns-adaptive``'s 720-iteration wait (at 256x256) from each fit's own online first
hit; the replay equals the online rule if every check after the first hit hits. The statistic
``255 * 10^(-psnr_input / 20)`` is in each fit's history every 10 iterations; this prints, per fit, how often
it rises from one sample to the next during the wait and how far it falls over it. (The online threshold is
taken from the averaged output, which the history does not keep; it moves only where clipping near black and
white changes, far less than the statistic falls.)

    .venv/bin/python benchmarks/studies/check_mns_hits.py benchmarks/results/stop_eval_w48_crop256.json \\
        benchmarks/results/stop_eval_w48_crop256_s50.json --online-pace 14
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from deepprior.fit.stopping import MethodNoise
from replay_mns import first_hit_online


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", type=Path, nargs="+")
    ap.add_argument("--online-pace", type=int, default=None, help="the pace the fits' observers ran with")
    args = ap.parse_args()
    print("| condition | image | first hit | samples in the wait | rises | fall over the wait (0-255) |\n"
          "|---|---|---|---|---|---|")
    for path in args.results:
        data = json.loads(path.read_text())
        wait = 24 * MethodNoise.pace(data["meta"]["args"]["crop"])  # 24 checks after the first hit: 720 at 256
        for r in data["rows"]:
            first = first_hit_online(r, args.online_pace)
            if first is None or first < 0:
                continue
            stats = [255 * 10 ** (-h["psnr_input"] / 20) for h in r["history"]
                     if h["iteration"] % 10 == 0 and first <= h["iteration"] <= first + wait]
            rises = sum(b > a for a, b in zip(stats, stats[1:], strict=False))
            print(f"| {r['condition']} | {r['image']} | {first} | {len(stats)} | {rises} | "
                  f"{stats[0] - stats[-1]:.3f} |")


if __name__ == "__main__":
    main()
