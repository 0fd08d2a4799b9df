import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/** The console's pages and scripts, served as they are (no bundler). */
const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));

/** The browser modules the pages import, by the bare name the import map gives them. */
const VENDOR: Record<string, string> = {
  preact: 'preact',
  'preact/hooks': 'preact/hooks',
  htm: 'htm',
};

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
};

function typeOf(file: string): string {
  return TYPES[/\.[a-z]+$/.exec(file)?.[0] ?? ''] ?? 'application/octet-stream';
}

/** The file `specifier` resolves to, and the text of its ES module build. */
function vendorFile(specifier: string): { path: string; text: string } {
  const path = fileURLToPath(import.meta.resolve(specifier));
  return { path, text: readFileSync(path, 'utf8') };
}

/**
 * Serves the single-page console: `/` (index.html, with an import map naming the vendored modules and a
 * Content-Security-Policy that allows only this origin's scripts and that import map), `/assets/<file>` (the
 * files of `public/`, read once at start-up: nothing else on disk can be reached), and `/vendor/<name>.mjs`
 * (Preact, its hooks and htm, the ES module builds from node_modules).
 */
export function assetRoutes(app: FastifyInstance): void {
  const files = new Map<string, { type: string; body: string }>();
  for (const name of readdirSync(PUBLIC_DIR)) {
    if (/\.(js|css|svg)$/.test(name))
      files.set(name, { type: typeOf(name), body: readFileSync(join(PUBLIC_DIR, name), 'utf8') });
  }
  const vendor = new Map<string, string>();
  const imports: Record<string, string> = {};
  for (const [bare, specifier] of Object.entries(VENDOR)) {
    const file = `${bare.replace('/', '-')}.mjs`;
    vendor.set(file, vendorFile(specifier).text);
    imports[bare] = `/vendor/${file}`;
  }
  const importMap = JSON.stringify({ imports }, null, 2);
  const hash = createHash('sha256').update(importMap).digest('base64');
  const csp = [
    "default-src 'self'",
    `script-src 'self' 'sha256-${hash}'`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
  const index = readFileSync(join(PUBLIC_DIR, 'index.html'), 'utf8').replace(
    '<!-- import map -->',
    `<script type="importmap">${importMap}</script>`,
  );

  app.addHook('onSend', (_request, reply, payload, done) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('referrer-policy', 'no-referrer');
    done(null, payload);
  });
  app.get('/', (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('content-security-policy', csp).send(index),
  );
  app.get<{ Params: { file: string } }>('/assets/:file', (request, reply) => {
    const file = files.get(request.params.file);
    if (file === undefined) return reply.code(404).send({ error: 'not found' });
    return reply.type(file.type).header('cache-control', 'no-cache').send(file.body);
  });
  app.get<{ Params: { file: string } }>('/vendor/:file', (request, reply) => {
    const body = vendor.get(request.params.file);
    if (body === undefined) return reply.code(404).send({ error: 'not found' });
    return reply.type(TYPES['.mjs']!).header('cache-control', 'max-age=3600').send(body);
  });
}
