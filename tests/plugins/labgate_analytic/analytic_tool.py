"""The analytic tool: run inside the sandbox with the interpreter alone (`python -I`, standard library).

Usage: analytic_tool.py '<params as JSON>'. Writes result.json ({"problem", "value"}) and tool.log.
"""

import json
import sys


def geometric(ratio: float, terms: int) -> float:
    total, term = 0.0, 1.0
    for _ in range(terms):
        total += term
        term *= ratio
    return total


def quadrature(power: int, intervals: int) -> float:
    width = 1.0 / intervals
    return sum(((index + 0.5) * width) ** power for index in range(intervals)) * width


def main() -> None:
    params = json.loads(sys.argv[1])
    if params["problem"] == "geometric":
        value = geometric(float(params["ratio"]), int(params["terms"]))
    else:
        value = quadrature(int(params["power"]), int(params["intervals"]))
    with open("result.json", "w") as handle:
        json.dump({"problem": params["problem"], "value": value}, handle)
    with open("tool.log", "w") as handle:
        handle.write(f"{params['problem']}: {value!r}\n")


if __name__ == "__main__":
    main()
