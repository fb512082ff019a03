# chatgpt-adapter on the official Deno image.
#   docker build -t chatgpt-adapter .
#   docker run -p 8080:8080 -v "$PWD/config.yaml:/app/config.yaml:ro" chatgpt-adapter
# Images the server stores go to /app/data (mount a volume there to keep them).
FROM denoland/deno:2.9.6

WORKDIR /app

# Chromium for the browser module: Cloudflare clearances and the captcha tokens some upstreams ask
# for (Copilot's Turnstile, you.com's challenge). Found on PATH as `chromium`.
RUN apt-get update \
  && apt-get install -y --no-install-recommends chromium fonts-liberation \
  && rm -rf /var/lib/apt/lists/*

# Dependencies first, so that code changes do not re-download them: every npm package the sources
# import is in deno.json's import map, so this layer depends on deno.json and deno.lock alone.
COPY deno.json deno.lock ./
RUN deno install --frozen

COPY main.ts ./
COPY src/ ./src/
RUN deno cache --frozen main.ts

COPY config.yaml ./
RUN mkdir -p /app/data && chown -R deno:deno /app/data

# The image's unprivileged user.
USER deno
EXPOSE 8080
ENV PORT=8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["deno", "eval", "const r = await fetch('http://127.0.0.1:' + (Deno.env.get('PORT') ?? '8080') + '/health'); Deno.exit(r.ok ? 0 : 1)"]

# The start task carries the server's permissions, --allow-ffi included: the chrome transport loads
# its native TLS library (npm wreq-js, cached above by deno install; glibc builds for x64 and arm64).
CMD ["task", "start", "--config", "/app/config.yaml"]
