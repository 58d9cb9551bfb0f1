/**
 * Vega-Lite spec → SVG (vega's headless View) → PNG (resvg), in Node without a browser or canvas.
 * Text is laid out with the shipped DejaVu Sans metrics and drawn by resvg from the same TTFs with system
 * fonts off, so a figure looks the same on every machine and its labels cannot silently vanish.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, version as vegaLiteVersion } from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { InputError, errorMessage } from '../common/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../common/fsutil.js';
import { FONT_FAMILY, FONT_STACK, fontFiles, fontMetrics, isBoldWeight } from './fonts.js';

/** A Vega-Lite top-level spec (vega-lite's own type). */
export type VegaLiteSpec = TopLevelSpec;

export interface RenderOptions {
  /** Write the SVG here (atomically; folders are created). */
  svgPath?: string;
  /** Write the PNG here (atomically; folders are created). */
  pngPath?: string;
  /** Write the Vega-Lite spec as JSON here, so the figure can be reopened in the Vega editor. */
  specPath?: string;
  /** PNG pixels per SVG pixel (default 2, for crisp text). */
  scale?: number;
  /** PNG background (default white; SVG keeps the spec's background). */
  background?: string;
}

export interface RenderResult {
  svg: string;
  /** PNG bytes; present when a PNG was asked for (`pngPath`) or `scale` was given. */
  png?: Buffer;
  /** SVG size in CSS pixels. */
  width: number;
  height: number;
}

export interface Raster {
  width: number;
  height: number;
  /** RGBA, 4 bytes per pixel, row-major. */
  rgba: Uint8Array;
  png: Buffer;
}

interface TextItem {
  text?: unknown;
  fontSize?: number | string | null;
  fontWeight?: string | number | null;
}

interface TextMetricsObject {
  width: (item: TextItem, text: unknown) => number;
}

let metricsInstalled = false;

/**
 * Make vega measure text with the shipped font's advances (vega falls back to a 0.8 em-per-character
 * guess without a canvas). The function returns the width of the text as given: vega's own truncation
 * (a text item's `limit`) calls it on prefixes, so it must not truncate itself.
 */
export function installTextMetrics(): void {
  if (metricsInstalled) return;
  const metrics = fontMetrics();
  const holder = (vega as unknown as { textMetrics?: TextMetricsObject }).textMetrics;
  if (!holder || typeof holder.width !== 'function') {
    throw new Error('vega does not expose textMetrics: cannot install font metrics');
  }
  holder.width = (item: TextItem, raw: unknown): number => {
    const size = item.fontSize === undefined || item.fontSize === null ? 11 : Number(item.fontSize) || 0;
    if (size <= 0) return 0;
    const text = raw === undefined || raw === null ? '' : String(raw).trim();
    if (text.length === 0) return 0;
    const face = isBoldWeight(item.fontWeight ?? undefined) ? metrics.bold : metrics.regular;
    return face.width(text, size);
  };
  metricsInstalled = true;
}

const require = createRequire(import.meta.url);

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Versions of what draws the figures, for a report's provenance. */
export function rendererVersions(): Record<string, string> {
  return {
    vega: vega.version,
    'vega-lite': vegaLiteVersion,
    '@resvg/resvg-js': packageVersion('@resvg/resvg-js'),
    font: `${FONT_FAMILY} 2.37 (shipped)`,
  };
}

/** The spec with the figure font forced into its config (text in another family would not be drawn). */
function withFont(spec: VegaLiteSpec): VegaLiteSpec {
  const config = { ...(spec.config ?? {}) };
  if (config.font !== FONT_STACK && config.font !== FONT_FAMILY) config.font = FONT_STACK;
  return { ...spec, config } as VegaLiteSpec;
}

/** Compile a Vega-Lite spec and render it to an SVG string with vega's headless View. */
export async function vegaLiteToSvg(spec: VegaLiteSpec): Promise<{ svg: string; width: number; height: number }> {
  installTextMetrics();
  let vgSpec: vega.Spec;
  try {
    vgSpec = compile(withFont(spec)).spec as vega.Spec;
  } catch (err) {
    throw new InputError(`invalid Vega-Lite spec: ${errorMessage(err)}`, { cause: err });
  }
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  try {
    await view.runAsync();
    const svg = await view.toSVG();
    return { svg, ...svgSize(svg) };
  } finally {
    view.finalize();
  }
}

/** The root element's width and height attributes (CSS pixels). */
export function svgSize(svg: string): { width: number; height: number } {
  const root = /<svg\b[^>]*>/.exec(svg)?.[0] ?? '';
  const attr = (name: string): number => Number(new RegExp(`\\s${name}="([0-9.]+)"`).exec(root)?.[1] ?? NaN);
  return { width: attr('width'), height: attr('height') };
}

/** Rasterise an SVG with resvg, using only the shipped fonts. */
export function rasterizeSvg(svg: string, options: { scale?: number; background?: string } = {}): Raster {
  const scale = options.scale ?? 2;
  if (!(scale > 0) || !Number.isFinite(scale)) throw new InputError(`PNG scale must be a positive number, got ${scale}`);
  const files = fontFiles();
  const resvg = new Resvg(svg, {
    font: {
      fontFiles: [files.regular, files.bold],
      loadSystemFonts: false,
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
    },
    fitTo: { mode: 'zoom', value: scale },
    background: options.background ?? 'white',
    logLevel: 'off',
  });
  const image = resvg.render();
  return { width: image.width, height: image.height, rgba: new Uint8Array(image.pixels), png: image.asPng() };
}

/**
 * Render a Vega-Lite spec to SVG and (when `pngPath` or `scale` is given) PNG; write the files asked for.
 * The PNG is drawn at `scale` (default 2) on a white background.
 */
export async function renderVegaLite(spec: VegaLiteSpec, options: RenderOptions = {}): Promise<RenderResult> {
  const { svg, width, height } = await vegaLiteToSvg(spec);
  const result: RenderResult = { svg, width, height };
  if (options.specPath) writeJsonAtomic(options.specPath, spec);
  if (options.svgPath) writeFileAtomic(options.svgPath, svg);
  if (options.pngPath || options.scale !== undefined) {
    const raster = rasterizeSvg(svg, { scale: options.scale, background: options.background });
    result.png = raster.png;
    if (options.pngPath) writeFileAtomic(options.pngPath, raster.png);
  }
  return result;
}

/** Write an already rendered SVG string as a PNG file (for SVGs made elsewhere). */
export function writePngFromSvg(svg: string, pngPath: string, scale = 2): void {
  writeFileAtomic(pngPath, rasterizeSvg(svg, { scale }).png);
}
