"""The API floor: a bare FastAPI app behind Mangum answering one route."""

from fastapi import FastAPI
from mangum import Mangum

app = FastAPI()


@app.get("/healthz")
def healthz():  # as bare as an app gets: no response model to build
    return {"status": "ok"}


handler = Mangum(app, lifespan="off")
