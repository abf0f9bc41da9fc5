"""A Python command component reading and writing files in a granted directory."""
import os

from wit_world import exports


class Run(exports.Run):
    def run(self) -> None:
        with open("/data/input.txt") as f:
            lines = f.read().splitlines()
        print(f"{len(lines)} lines, {sum(len(line.split()) for line in lines)} words")
        print("longest:", max(lines, key=len))
        print("listing:", sorted(os.listdir("/data")))
        with open("/data/report.txt", "w") as f:
            f.write("\n".join(sorted(lines)) + "\n")
        print("report size:", os.stat("/data/report.txt").st_size)
        os.mkdir("/data/sub")
        os.rename("/data/report.txt", "/data/sub/report.txt")
        print("after rename:", sorted(os.listdir("/data")), sorted(os.listdir("/data/sub")))
        try:
            open("/etc/passwd")
        except OSError as e:
            print("outside the grant:", type(e).__name__)
