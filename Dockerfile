# The shop's image: web (gunicorn), Celery worker and beat all run from it
# (see docker-compose.yml). Static files are collected at build time and served by
# whitenoise; media and 1C exchange uploads live in volumes.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/data/media \
    EXCHANGE_ROOT=/data/exchange

WORKDIR /app

COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# collectstatic needs settings, not a database: DEBUG off selects the compressed,
# hashed storage; this SECRET_KEY exists only during the build.
RUN DEBUG=false SECRET_KEY=collectstatic-only DATABASE_URL=sqlite:////tmp/build.sqlite3 \
        python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --home-dir /app shop \
    && mkdir -p /data/media /data/exchange \
    && chown -R shop /data

USER shop
EXPOSE 8000

CMD ["gunicorn", "shop.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120", "--access-logfile", "-"]
