# Dreamina Studio as a Docker Space (or any container host).
# Spaces run the container as uid 1000 on port 7860; a storage bucket mounted at /data
# keeps the history (database, videos, posters) across restarts.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Fonts the simulator draws prompts with: the slim image has none, and without a CJK font a
# Chinese, Japanese or Korean prompt would show as boxes. The same list is packages.txt,
# which a Gradio Space installs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*

# The data folder must exist and belong to the app user even when nothing is mounted.
RUN useradd --create-home --uid 1000 user \
    && mkdir -p /data \
    && chown user:user /data

USER user
ENV HOME=/home/user \
    PATH=/home/user/.local/bin:$PATH \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860 \
    STUDIO_DATA_DIR=/data
WORKDIR $HOME/app

# Dependencies first, so code changes rebuild in seconds. PyAV's wheel ships FFmpeg.
COPY --chown=user requirements.txt .
RUN pip install --user -r requirements.txt

COPY --chown=user app.py ./
COPY --chown=user providers ./providers
COPY --chown=user jobs ./jobs
COPY --chown=user ui ./ui

VOLUME ["/data"]
EXPOSE 7860
CMD ["python", "app.py"]
