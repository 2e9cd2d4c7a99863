import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The interactive documentation page: Swagger UI from the swagger-ui-dist
 * package, served by the service itself, so that it works where a browser
 * reaches the service but no CDN.
 */
const DOCS_ASSETS = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
} as const;
export type DocsAssetName = keyof typeof DOCS_ASSETS;
export const DOCS_ASSET_NAMES = Object.keys(DOCS_ASSETS) as [DocsAssetName, ...DocsAssetName[]];

export const isDocsAsset = (name: string): name is DocsAssetName => Object.hasOwn(DOCS_ASSETS, name);

const assetsDirectory = () => path.dirname(require.resolve('swagger-ui-dist/package.json'));
const cache = new Map<DocsAssetName, Buffer>();

/** A file of swagger-ui-dist, read once. */
export function docsAsset(name: DocsAssetName): { body: Buffer; contentType: string } {
  let body = cache.get(name);
  if (!body) {
    body = readFileSync(path.join(assetsDirectory(), name));
    cache.set(name, body);
  }
  return { body, contentType: DOCS_ASSETS[name] };
}

export function docsPage(documentUrl: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Timeline service api</title>
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: ${JSON.stringify(documentUrl)},
      dom_id: '#swagger-ui',
      deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis],
      layout: 'BaseLayout',
    });
  </script>
</body>
</html>
`;
}
