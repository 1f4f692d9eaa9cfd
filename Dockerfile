FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md celeryconfig.py alembic.ini ./
COPY ci_remediator ci_remediator
COPY workers workers
RUN pip install --no-cache-dir .
ENV PYTHONUNBUFFERED=1
CMD ["ci-remediator", "--help"]
