# The service against an external PostgreSQL (DATABASE_URL); see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /app
COPY . .
# The code runs from /app (alembic.ini and alembic/ live beside it); the install brings
# the dependencies.
RUN pip install . \
    && useradd --create-home --uid 10001 crm

USER crm
EXPOSE 8000

# Applies the migrations, then serves; it never loads demo data into DATABASE_URL.
CMD ["python", "-m", "server"]
