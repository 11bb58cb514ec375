# Gaitu for the scale-out profile: PostgreSQL, Redis and S3 elsewhere, this image for the web
# server and the worker (README: Running on several machines; compose.yaml runs it all).
#   docker build -t gaitu .
#   docker run --env-file gaitu.env -p 8000:8000 gaitu                          # web server
#   docker run --env-file gaitu.env gaitu python manage.py run_worker           # a worker
FROM python:3.13-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Gaitu runs as a user of its own. The code belongs to root, so the process cannot change it;
# it writes only under /data (GAITU_DATA_DIR).
RUN useradd --system --create-home --uid 10001 gaitu \
    && mkdir /data \
    && chown gaitu:gaitu /data

WORKDIR /opt/gaitu
# The requirements first: this layer is built again only when they change, not with the code.
COPY requirements.txt requirements-scale.txt ./
RUN pip install -r requirements.txt -r requirements-scale.txt
COPY . .

USER gaitu
ENV HOST=0.0.0.0 PORT=8000 GAITU_DATA_DIR=/data
# The static files are collected into the image (/data/staticfiles), so every container of a
# release serves the same ones. The settings need a key to load; this one is for this step only
# and is not kept: containers get the shared SECRET_KEY from their environment. Loading them
# also opens the embedded profile's queue file, which the image does not keep either.
ARG SECRET_KEY=collectstatic-only-not-a-secret
RUN SECRET_KEY="$SECRET_KEY" python manage.py collectstatic --noinput --verbosity 0 \
    && rm -f /data/queue.sqlite3*

EXPOSE 8000
# No curl in the slim image: Python asks /healthz, which answers 503 when the database does
# not (urlopen raises on it, so the exit status is 1).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]

# The web server only; workers run `python manage.py run_worker` from the same image.
CMD ["python", "manage.py", "serve", "--no-worker"]
