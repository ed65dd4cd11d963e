"""The local game day (`make drill`): load at a fixed rate through the local ALB, one injected fault per
scenario, a settle period, then a data audit; reports/drill.json and a scorecard."""
