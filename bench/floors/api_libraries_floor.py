"""The API libraries' floor: the FastAPI floor plus what the API needs from outside this project, and
nothing of ours: boto3 with one client, a pydantic request model, and SQLAlchemy Core on pg8000 opening
one connection and reading one count in a transaction. No API built on these libraries
can start faster (see the README's Cold starts)."""

import os

import boto3
from fastapi import FastAPI
from mangum import Mangum
from pydantic import BaseModel
from sqlalchemy import create_engine, text

app = FastAPI()
s3 = boto3.client("s3")
engine = create_engine(os.environ["DATABASE_URL"], pool_size=1, max_overflow=0)


class NewBook(BaseModel):
    title: str
    childName: str


@app.post("/v1/books", status_code=201)
def create_book(book: NewBook) -> dict:
    with engine.connect() as connection, connection.begin() as transaction:
        connection.execute(text("SELECT count(*) FROM books WHERE title = :title"), {"title": book.title}).scalar()
        transaction.rollback()
    return {"title": book.title, "childName": book.childName}


handler = Mangum(app, lifespan="off")
