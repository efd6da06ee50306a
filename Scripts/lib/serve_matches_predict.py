"""Whether `quarry serve` answers as `quarry predict` does, for one model.

    python3 serve_matches_predict.py QUARRY MODEL TEXTS N

Starts the server on MODEL, posts the first N lines of TEXTS in one request with k = 2,
and compares the answer byte for byte with `predict --format jsonl --k 2`. Exits 1 on a
difference (printed) or when the server does not start.
"""

import json
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

from serve_stress import K, expected_answers


def main():
    quarry, model, texts_path, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    texts = [t for t in open(texts_path, encoding="utf-8").read().split("\n") if t.strip()][:n]
    want = '{"predictions":[' + ",".join(expected_answers(quarry, model, texts)) + "]}\n"
    with tempfile.NamedTemporaryFile("w+") as err:
        server = subprocess.Popen([quarry, "serve", "--model", model, "--port", "0"],
                                  stdout=subprocess.DEVNULL, stderr=err)
        try:
            port = None
            for _ in range(3000):  # an encoder takes a while to load
                m = re.search(r"http://127\.0\.0\.1:(\d+)", open(err.name).read())
                if m:
                    port = int(m.group(1))
                    break
                if server.poll() is not None:
                    break
                time.sleep(0.02)
            if port is None:
                print("serve did not start:", open(err.name).read())
                return 1
            body = json.dumps({"texts": texts, "k": K}).encode()
            req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/predict", data=body)
            got = urllib.request.urlopen(req, timeout=300).read().decode()
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    if got != want:
        print(f"serve answered\n{got[:400]}\npredict printed\n{want[:400]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
