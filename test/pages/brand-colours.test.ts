// The brand stylesheet keeps text readable whatever BRAND_PRIMARY_COLOR is (WCAG 2.2 §1.4.3,
// 4.5:1): the text on brand-coloured buttons, and brand-coloured links on both schemes' pages.
import { describe, expect, it } from 'vitest';
import { brandStylesheet, contrast, DARK_BACKGROUND, LIGHT_BACKGROUND } from '../../src/routes/brand-colours.js';

function properties(css: string): { light: Record<string, string>; dark: Record<string, string> } {
  const read = (block: string) => Object.fromEntries([...block.matchAll(/--([\w-]+):(#[0-9a-f]{6})/g)].map((m) => [m[1]!, m[2]!]));
  const [light, dark] = css.split('@media (prefers-color-scheme: dark)');
  return { light: read(light!), dark: read(dark!) };
}

describe('the brand stylesheet', () => {
  it('carries the colour, in #rrggbb form', () => {
    expect(properties(brandStylesheet('#0E9F6E')).light.brand).toBe('#0e9f6e');
    expect(properties(brandStylesheet('#f80')).light.brand).toBe('#ff8800');
  });

  it.each(['#2557d6', '#ffffff', '#000000', '#ffcc00', '#0e9f6e', '#808080', '#777777', '#e11d48', '#1a1a2e', '#7dd3fc'])(
    'keeps 4.5:1 contrast for %s on buttons and for links in light and dark',
    (colour) => {
      const { light, dark } = properties(brandStylesheet(colour));
      expect(contrast(light['on-brand']!, light.brand!)).toBeGreaterThanOrEqual(4.5);
      expect(contrast(light['brand-text']!, LIGHT_BACKGROUND)).toBeGreaterThanOrEqual(4.5);
      expect(contrast(dark['brand-text']!, DARK_BACKGROUND)).toBeGreaterThanOrEqual(4.5);
    },
  );

  it('keeps a colour that is readable already', () => {
    // #2557d6 on the light page is above 4.5:1: links keep the brand colour itself
    expect(properties(brandStylesheet('#2557d6')).light['brand-text']).toBe('#2557d6');
  });
});
