"""Serve a test app on loopback: ``python serve.py MODULE PORT`` (backend from KD_BACKEND).

Flask through werkzeug's server, FastAPI and Quart through uvicorn, as users run them.
"""

import importlib
import os
import sys


def main():
    module, port = sys.argv[1], int(sys.argv[2])
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    app = importlib.import_module(module).app
    server = app.server
    if os.environ.get("KD_BACKEND", "flask") == "flask":
        from werkzeug.serving import make_server

        make_server("127.0.0.1", port, server, threaded=True).serve_forever()
    else:
        import uvicorn

        uvicorn.run(server, host="127.0.0.1", port=port, log_level="warning")


# Guarded: spawn children re-import the main module.
if __name__ == "__main__":
    main()
