# CPU image of bitext. Build:   docker build -t bitext .
# Bake the model in (no download at container start, works offline):
#                               docker build --build-arg BAKE_MODEL=Helsinki-NLP/opus-mt-fr-en -t bitext .
# Run:                          docker run -p 8000:8000 -v bitext-data:/data bitext
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    HF_HOME=/home/bitext/.cache/huggingface \
    BITEXT_HOST=0.0.0.0 BITEXT_PORT=8000 \
    BITEXT_DATA_DIR=/data

# /app belongs to root: jobs, uploads and the job store go to /data, owned by the service user
# and private to it (a named volume mounted there starts with this owner and mode).
RUN useradd --create-home --uid 10001 bitext \
    && mkdir /data && chown bitext:bitext /data && chmod 700 /data
WORKDIR /app

# The CPU build of torch, from PyTorch's CPU index (PyPI's default wheel is the multi-GB CUDA one).
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

COPY pyproject.toml README.md ./
COPY models ./models
COPY service ./service
RUN pip install .

USER bitext
ARG BAKE_MODEL=""
RUN if [ -n "$BAKE_MODEL" ]; then bitext download-model --model "$BAKE_MODEL"; fi
ENV BITEXT_MODEL=${BAKE_MODEL:-Helsinki-NLP/opus-mt-fr-en}

VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=4).status != 200)"
CMD ["bitext", "serve"]
