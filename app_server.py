"""`make run`'s server: load the model, the current index, the article list and the first corpus
walk in this process, then start Streamlit in it (assistant/ui/warm.py says why). The health
endpoint answers only once the app is warm, so a page opened when `make run` says ready answers
its first question without loading anything.

    .venv/bin/python app_server.py [streamlit run options...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    from assistant.config import Settings
    from assistant.errors import AssistantError
    from assistant.ui import warm

    t0 = time.perf_counter()
    try:
        settings = Settings()
        warm.preload(settings, log=lambda line: print(line, file=sys.stderr, flush=True))
        from assistant.answer import language

        language.detect("Une question pour charger le détecteur de langue")  # its models too
        print(f"warm-up done in {time.perf_counter() - t0:.1f} s; starting the server",
              file=sys.stderr, flush=True)
    except AssistantError as exc:  # no usable index: the app's build page needs nothing loaded
        print(f"warm-up skipped: {exc}", file=sys.stderr, flush=True)
    except Exception as exc:  # noqa: BLE001 - the app shows the problem to its first visitor
        print(f"warm-up failed ({type(exc).__name__}: {exc}); starting the server cold",
              file=sys.stderr, flush=True)
    from streamlit.web import cli

    app = str(Path(__file__).resolve().parent / "app.py")
    sys.argv = ["streamlit", "run", app, *argv]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
