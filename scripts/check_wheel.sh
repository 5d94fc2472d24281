#!/usr/bin/env bash
# Build the sdist and the wheel, install the wheel (not editable) into a fresh environment beside the
# checkout, and use it from another folder: the version, a tiny restore, and `deepprior serve` answering its
# page. Run by .ci/run and `make check-wheel` (issue #32).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TORCH_PIN=${TORCH_PIN:-torch==2.13.0}
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

.venv/bin/python -m build --sdist --wheel --outdir "$work/dist" . >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
wheel=$(ls "$work"/dist/*.whl)
ls "$work"/dist/*.tar.gz >/dev/null
listing=$(unzip -l "$wheel")  # read whole: `unzip | grep -q` can fail under pipefail when grep stops early
# napari finds the plugin through this entry point (its manifest is the package data above)
unzip -p "$wheel" '*.dist-info/entry_points.txt' | grep -q '^deepprior = deepprior.napari_plugin:napari.yaml$' \
  || { echo "the wheel lacks the napari.manifest entry point"; exit 1; }
for data in deepprior/py.typed deepprior/restore/report_schema.json deepprior/web/static/index.html \
            deepprior/web/static/app.js deepprior/web/static/style.css deepprior/napari_plugin/napari.yaml; do
  grep -q " $data\$" <<<"$listing" || { echo "the wheel lacks $data"; exit 1; }
done

"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/pip" install -q "$TORCH_PIN"
"$work/venv/bin/pip" install -q "$wheel[web]"
cd "$work"  # away from the checkout: the installed package is what runs
venv/bin/python -c "import deepprior, sys; assert 'site-packages' in deepprior.__file__, deepprior.__file__"
venv/bin/deepprior --version
venv/bin/python - <<'PY'
import numpy as np
from PIL import Image
rng = np.random.default_rng(0)
clean = np.linspace(0, 255, 32 * 32 * 3).reshape(32, 32, 3)
Image.fromarray(np.clip(clean + rng.normal(0, 25, clean.shape), 0, 255).astype(np.uint8)).save("noisy.png")
PY
venv/bin/deepprior denoise noisy.png --sigma 25 --iters 5 --threads 1 -q -o restored.png
venv/bin/python -c "from deepprior import io; assert io.load_image('restored.png').pixels.shape == (32, 32, 3)"

port=$(venv/bin/python -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
venv/bin/deepprior serve --port "$port" >serve.log 2>&1 &
server=$!
venv/bin/python - "$port" <<'PY'
import sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/"
for _ in range(120):
    try:
        page = urllib.request.urlopen(url, timeout=2).read().decode()
        break
    except OSError:
        time.sleep(0.5)
else:
    sys.exit("deepprior serve did not answer")
assert "<html" in page.lower(), page[:200]
form = urllib.request.urlopen(url + "api/form", timeout=5).read().decode()
assert "denoise" in form
print("the wheel installs, restores and serves its page")
PY
