"""Whether `quarry serve` answers as `quarry predict` does, for one model.

    python3 serve_matches_predict.py QUARRY MODEL TEXTS N

Starts the server on MODEL, posts the first N lines of TEXTS in one request with k = 2,
then again as N one-text requests sent together (so that the server batches them in its
own way), and compares every answer byte for byte with `predict --format jsonl --k 2`.
Exits 1 on a difference (printed) or when the server does not start.
"""

import json
import os
import signal
import sys
import tempfile
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from serve_stress import K, expected_answers, start_server


def main():
    quarry, model, texts_path, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    texts = [t for t in open(texts_path, encoding="utf-8").read().split("\n") if t.strip()][:n]
    lines = expected_answers(quarry, model, texts)
    want = '{"predictions":[' + ",".join(lines) + "]}\n"
    with tempfile.TemporaryDirectory() as tmp:
        err_path = os.path.join(tmp, "serve.err")
        # An encoder takes a while to load.
        server, port = start_server(quarry, ["--model", model], err_path, wait=60)
        if port is None:
            print("serve did not start:", open(err_path).read())
            return 1
        try:
            got = post(port, texts)
            with ThreadPoolExecutor(max_workers=16) as pool:
                singles = list(pool.map(lambda t: post(port, [t]), texts))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    if got != want:
        print(f"serve answered\n{got[:400]}\npredict printed\n{want[:400]}")
        return 1
    for i, (one, line) in enumerate(zip(singles, lines)):
        if one != '{"predictions":[' + line + "]}\n":
            print(f"text {i + 1} alone: serve answered {one.strip()}, predict printed {line}")
            return 1
    return 0


def post(port, texts):
    body = json.dumps({"texts": texts, "k": K}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/predict", data=body)
    return urllib.request.urlopen(req, timeout=300).read().decode()


if __name__ == "__main__":
    sys.exit(main())
