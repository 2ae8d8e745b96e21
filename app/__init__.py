"""ragqa: cited question answering over a folder of news coverage and policy documents.

Importing the package pins the offline variables first (before sentence-transformers, chromadb or
gradio read them), so no code path can download a model or send telemetry.
"""

from app.config import offline_environment

offline_environment()

__version__ = "0.1.0"
