// The brand stylesheet, generated from BRAND_PRIMARY_COLOR: custom properties only, served from
// this server like any stylesheet, so the colour reaches the pages without an inline style (the
// CSP keeps style-src 'self'). Text and link colours are chosen so that they keep WCAG 2.2's
// contrast minimum (§1.4.3: 4.5:1) whatever colour the operator picks.

type Rgb = [number, number, number];

function parseHex(hex: string): Rgb {
  const h = hex.slice(1);
  const full = h.length === 3 ? [...h].map((c) => c + c).join('') : h;
  return [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16)) as Rgb;
}

const toHex = (rgb: Rgb) => `#${rgb.map((c) => Math.round(c).toString(16).padStart(2, '0')).join('')}`;

/** WCAG 2.2 "relative luminance" (definition in the Understanding 1.4.3 glossary, sRGB). */
function luminance(rgb: Rgb): number {
  const [r, g, b] = rgb.map((c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }) as Rgb;
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(a: string, b: string): number {
  const [x, y] = [luminance(parseHex(a)), luminance(parseHex(b))].sort((p, q) => q - p) as [number, number];
  return (x + 0.05) / (y + 0.05);
}

/** `colour` moved towards `target` in steps of 5 % until it reaches `ratio` against `background`. */
function readableOn(colour: string, background: string, target: string, ratio: number): string {
  const from = parseHex(colour);
  const to = parseHex(target);
  for (let step = 0; step <= 20; step++) {
    const mixed = toHex(from.map((c, i) => c + ((to[i]! - c) * step) / 20) as Rgb);
    if (contrast(mixed, background) >= ratio) return mixed;
  }
  return target;
}

/**
 * The backgrounds of views/assets/app.css that brand-coloured text must stand out on: in light
 * mode the darker one (the page around the card), in dark mode the lighter one (the card).
 */
export const LIGHT_BACKGROUND = '#f3f4f7';
export const DARK_BACKGROUND = '#1b1f27';

export function brandStylesheet(primary: string): string {
  const brand = toHex(parseHex(primary));
  // text on a brand-coloured button: white or black, whichever stands out more (at least 4.58:1)
  const onBrand = contrast('#ffffff', brand) >= contrast('#000000', brand) ? '#ffffff' : '#000000';
  return [
    `:root{--brand:${brand};--on-brand:${onBrand};--brand-text:${readableOn(brand, LIGHT_BACKGROUND, '#000000', 4.5)}}`,
    `@media (prefers-color-scheme: dark){:root{--brand-text:${readableOn(brand, DARK_BACKGROUND, '#ffffff', 4.5)}}}`,
    '',
  ].join('\n');
}
