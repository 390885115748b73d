"""The loopback server of the call benchmarks: caudal's sandbox (every plugin's emulator).

Run in its own process (`python -m bench._server`) so the server's work does not share the
client's interpreter lock: prints the sandbox URL, serves on 127.0.0.1 until stdin closes.
"""

from __future__ import annotations

import sys

from caudal.sandbox import serve


def main() -> None:
    with serve(host="127.0.0.1", port=0) as sandbox:
        print(sandbox.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
