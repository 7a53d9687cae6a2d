# The bot image (the Rasa server uses the official rasa/rasa image; see docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
RUN useradd --system --uid 1001 sleutelbrug && mkdir -p /var/lib/sleutelbrug \
    && chown sleutelbrug /var/lib/sleutelbrug
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY nlu ./nlu
COPY matching ./matching
COPY sandbox ./sandbox
COPY dashboard ./dashboard
COPY locales ./locales
# Editable, so that locales/ and the migrations are found next to the code.
RUN pip install --no-cache-dir -e .
USER sleutelbrug
EXPOSE 8443
CMD ["sleutelbrug", "bot"]
