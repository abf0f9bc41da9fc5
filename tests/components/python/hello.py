"""A Python command component: its arguments, its environment, a little computation."""
import os
import sys

from wit_world import exports


class Run(exports.Run):
    def run(self) -> None:
        print("Hello from Python", ".".join(map(str, sys.version_info[:2])))
        print("arguments:", sys.argv[1:])
        print("GREETING:", os.environ.get("GREETING"))
        squares = {n: n * n for n in range(10)}
        print("sum of squares:", sum(squares.values()), "primes:", [n for n in range(2, 30) if all(n % d for d in range(2, n))])
        print("unicode:", "naïve café".upper(), len("☃✓"))
