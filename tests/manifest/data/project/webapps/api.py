"""Web handlers: an ASGI app, a WSGI app, a factory, endpoints, a web server."""

from fastapi import FastAPI
from flask import Flask
import subprocess

app = FastAPI(title="api")
wsgi_app = Flask(__name__)
NOT_AN_APP = 42


def make_app():
    api = FastAPI()
    return api


def make_app_with(config):
    return FastAPI()


def get_item(item_id: str, verbose: bool = False) -> dict:
    return {"id": item_id}


def post_item(item: dict) -> dict:
    return item


def search(body: dict) -> dict:
    return body


def serve():
    subprocess.Popen(["python", "-m", "http.server", "8000"])


def serve_port(port):
    subprocess.Popen(["python", "-m", "http.server", str(port)])
