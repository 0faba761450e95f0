#!/usr/bin/env bash
# `make report-check`: render the SenseTime lock-up report and, when Chromium is installed,
# screenshot it headless for a person to look at. Not part of the test suite.
set -euo pipefail
BIN=${BIN:-.venv/bin}
OUT=${OUT:-reports/report-check}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

"$BIN/eventstudy" -q lockup 0020.HK --offline --out "$OUT/lockup_0020.HK" > /dev/null
"$BIN/python" - "$OUT/lockup_0020.HK/report.html" <<'PY'
import sys
import html5lib
parser = html5lib.HTMLParser(strict=True)
parser.parse(open(sys.argv[1], "rb").read())
print(f"{sys.argv[1]}: valid HTML (html5lib strict)")
PY
if [ ! -x "$CHROMIUM" ]; then
    echo "report-check: $CHROMIUM not found: screenshot skipped (apt-get install chromium)"
    exit 0
fi
PROFILE=$(mktemp -d)
trap 'rm -rf "$PROFILE"' EXIT
PAGE="file://$(realpath "$OUT/lockup_0020.HK/report.html")"
# a desktop and a phone width: the headline comes first, wide tables scroll in their own boxes
for WIDTH in 1400 390; do
    SHOT="$OUT/lockup_0020.HK_${WIDTH}.png"
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
        --disable-background-networking --disable-component-update --disable-sync \
        --no-first-run --user-data-dir="$PROFILE" --hide-scrollbars \
        --window-size="$WIDTH,2000" --screenshot="$SHOT" "$PAGE" > /dev/null 2>&1
    echo "report-check: screenshot $SHOT"
done
