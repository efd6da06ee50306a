"""fastText's Python module behind FastAPI: the usual Python way of serving a fastText
model, as the peer of `quarry serve` in Scripts/bench-serve.

It answers the same API as `quarry serve`:

  POST /v1/predict  {"texts": ["...", ...], "k": 1}
                -> {"predictions": [{"labels": [...], "probabilities": [...]}, ...]}
  GET  /healthz     ok

The model is loaded once per process from $FASTTEXT_MODEL (fasttext.load_model), and a
request's texts are scored with one call, model.predict(texts, k=k), fastText's batch
predict. Labels are given without fastText's "__label__" prefix.

The texts are passed as they come: fastText splits on whitespace only, and R8's texts are
already in the form Scripts/bench gives fastText (lowercased, punctuation split off;
Scripts/bench-serve checks that before it starts). A text holding a newline is refused
with 400, as fastText's predict raises on one.

Run (Scripts/bench-serve does):
  FASTTEXT_MODEL=r8.bin uvicorn fasttext_server:app --app-dir Scripts/lib \
      --host 127.0.0.1 --port 8081 --workers 1 --no-access-log

The handler is `async def`: the work is CPU-bound and short, so it runs on the event
loop itself, with no hop to the thread pool that a plain `def` handler would take.
"""

import os

import fasttext
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel

LABEL_PREFIX = "__label__"

model = fasttext.load_model(os.environ["FASTTEXT_MODEL"])
app = FastAPI()


class Query(BaseModel):
    texts: list[str]
    k: int = 1


@app.get("/healthz", response_class=PlainTextResponse)
async def healthz():
    return "ok\n"


@app.post("/v1/predict")
async def predict(query: Query):
    if query.k < 1:
        return JSONResponse({"error": "k must be at least 1, got %d" % query.k}, status_code=400)
    if any("\n" in t for t in query.texts):
        return JSONResponse({"error": "a text holds a newline"}, status_code=400)
    if not query.texts:
        return JSONResponse({"predictions": []})
    labels, probabilities = model.predict(query.texts, k=query.k)
    n = len(LABEL_PREFIX)
    rows = [
        {"labels": [label[n:] for label in ls], "probabilities": [float(p) for p in ps]}
        for ls, ps in zip(labels, probabilities)
    ]
    # A JSONResponse of plain lists and floats: no response_model, so FastAPI does not
    # walk the result again through jsonable_encoder.
    return JSONResponse({"predictions": rows})
