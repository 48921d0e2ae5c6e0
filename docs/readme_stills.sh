#!/usr/bin/env bash
# The three stills at the top of the README, from shipped scenes (1920x1080, current look).
# Surfaces are computed where missing (and reused from docs/make_films.py's folders).
set -euo pipefail
cd "$(dirname "$0")/.."
LF=.venv/bin/lossfilm
$LF still scenes/flyby.yaml --out outputs/films-doc/flyby --time 1 --size 1920x1080 \
    -o docs/still_flyby.png
$LF still scenes/quickstart.yaml --out outputs/films-doc/quickstart --state 12 --size 1920x1080 \
    --set 'camera.shots=[{top: {duration: 10}}]' --set 'render.overlays.title=Top view' \
    --set 'render.contours={enabled: true, count: 24, opacity: 0.35}' -o docs/still_top.png
$LF still scenes/below_minimum.yaml --out outputs/films-doc/below_minimum --time 11 --size 1920x1080 \
    --set 'render.overlays.title=From below' --set 'render.dof.enabled=false' -o docs/still_below.png
