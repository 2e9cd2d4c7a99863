import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The files of the ops page: our own (assets/, copied to dist by the build)
 * and vis-timeline's standalone build from node_modules. Served by the api
 * itself, so the page works where a browser reaches the service but no CDN.
 */
const visTimeline = (file: string) => path.join(path.dirname(require.resolve('vis-timeline/package.json')), file);
const own = (file: string) => path.join(__dirname, 'assets', file);

const OPS_ASSETS = {
  'ops.css': { file: () => own('ops.css'), contentType: 'text/css; charset=utf-8' },
  'ops.js': { file: () => own('ops.js'), contentType: 'text/javascript; charset=utf-8' },
  'vis-timeline.min.js': { file: () => visTimeline('standalone/umd/vis-timeline-graph2d.min.js'), contentType: 'text/javascript; charset=utf-8' },
  'vis-timeline.min.css': { file: () => visTimeline('styles/vis-timeline-graph2d.min.css'), contentType: 'text/css; charset=utf-8' },
} as const;
export type OpsAssetName = keyof typeof OPS_ASSETS;
export const OPS_ASSET_NAMES = Object.keys(OPS_ASSETS) as [OpsAssetName, ...OpsAssetName[]];

export const isOpsAsset = (name: string): name is OpsAssetName => Object.hasOwn(OPS_ASSETS, name);

const cache = new Map<string, Buffer>();
const read = (file: string) => {
  let body = cache.get(file);
  if (!body) {
    body = readFileSync(file);
    cache.set(file, body);
  }
  return body;
};

/** A file of the page, read once. */
export function opsAsset(name: OpsAssetName): { body: Buffer; contentType: string } {
  const asset = OPS_ASSETS[name];
  return { body: read(asset.file()), contentType: asset.contentType };
}

export function opsPage(): Buffer {
  return read(own('ops.html'));
}
