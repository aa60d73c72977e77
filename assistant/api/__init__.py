"""The assistant as a service: an HTTP API (`assistant serve`) with the CLI's JSON contract, an
OpenAI-compatible face for other chat clients, and personal API tokens.

Only `app` and `openai_face` import FastAPI (the `api` extra). Tokens, rate limits and access
decisions are plain Python: the Streamlit app and `assistant token` use them without it."""
